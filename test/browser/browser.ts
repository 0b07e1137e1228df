/**
 * The browser tests' Chromium: Debian's (/usr/bin/chromium, `apt-get install
 * chromium`; .ci/run installs it), driven by playwright-core, which downloads
 * no browser. Headless, with a fresh profile each launch (Playwright makes a
 * temporary user-data-dir and removes it on close), and with everything that
 * would call Google's servers off: the tests run on a closed network, and any
 * request a page makes must be its own origin's.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's (sudo apt-get install chromium), or set CHROMIUM_PATH`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}

/** Where the tests write screenshots for a person to look at (git-ignored). */
export const SCREENSHOT_DIR = new URL("../../test-results/screenshots/", import.meta.url).pathname;

/** Writes a PNG screenshot (the viewport, or with `fullPage` the whole page) to test-results/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: options.fullPage ?? false });
  return path;
}
