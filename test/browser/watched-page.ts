/**
 * A page of the router opened in the browser with everything it does
 * recorded: each request (the page's, its workers' and its fetches') and the
 * console's errors, of which Content-Security-Policy violations are kept apart.
 * What a test asserts with it: no request left the router's origin, nothing
 * was refused by the policy, no script failed.
 */
import type { Browser, BrowserContext, ConsoleMessage, Page, Response } from "playwright-core";
import { expect } from "vitest";

export type WatchedPage = {
  page: Page;
  context: BrowserContext;
  /** The answer to the page's own URL (its status and headers). */
  response: Response;
  /** Every URL the page requested, in order. */
  requests: string[];
  /** Requests to anything but `origin` (data: and blob: URLs are the page's own). */
  foreignRequests(): string[];
  /** Console errors and uncaught exceptions. */
  errors: string[];
  /** The errors that are Content-Security-Policy violations. */
  cspViolations(): string[];
  close(): Promise<void>;
};

const OWN_SCHEMES = ["data:", "blob:", "about:"];
/** How Chromium words a violation in the console ("Refused to load …", "… violates the following Content Security Policy directive …"). */
const CSP_VIOLATION = /Content Security Policy/i;

/**
 * Opens `path` of `origin` in a new browser context (its own cookies and
 * storage) and waits for the page's load event. `setup` runs on the context
 * before the page opens (e.g. to add session storage, or to route a request).
 */
export async function openPage(
  browser: Browser,
  origin: string,
  path: string,
  options: { viewport?: { width: number; height: number }; setup?: (context: BrowserContext) => Promise<unknown> } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 800 } });
  const requests: string[] = [];
  const errors: string[] = [];
  context.on("request", (request) => requests.push(request.url()));
  await options.setup?.(context);
  const page = await context.newPage();
  page.on("console", (message: ConsoleMessage) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(`uncaught: ${error.message}`));
  const url = new URL(path, origin).href;
  const response = await page.goto(url);
  if (!response) throw new Error(`no response for ${url}`);
  return {
    page,
    context,
    response,
    requests,
    foreignRequests: () => requests.filter((url) => !OWN_SCHEMES.some((s) => url.startsWith(s)) && new URL(url).origin !== new URL(origin).origin),
    errors,
    cspViolations: () => errors.filter((e) => CSP_VIOLATION.test(e)),
    close: () => context.close(),
  };
}

/** What every page of the router must hold to: no request left the origin, the policy refused nothing, no script failed. */
export function expectCleanPage(watched: WatchedPage): void {
  expect(watched.foreignRequests(), "requests to another origin").toEqual([]);
  expect(watched.cspViolations(), "Content-Security-Policy violations").toEqual([]);
  expect(watched.errors, "console errors").toEqual([]);
}
