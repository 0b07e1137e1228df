/**
 * The harness itself: what test/browser/watched-page.ts reports when a page
 * does break the rules (a request to another origin, an inline script under
 * the policy), so that its empty lists in the other tests mean something.
 * The two pages are made up here, answered by the browser's routing at the
 * router's origin; the other origin is never reached (its request is aborted).
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./browser.ts";
import { stack } from "./stack.ts";
import { openPage } from "./watched-page.ts";

const { origin } = stack();
const ELSEWHERE = "http://127.0.0.2:9/pixel.png";
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe("the browser harness", () => {
  it("records a request to another origin", async () => {
    const watched = await openPage(browser, origin, "/harness/elsewhere", {
      setup: async (context) => {
        await context.route(ELSEWHERE, (route) => route.abort());
        await context.route(`${origin}/harness/elsewhere`, (route) => route.fulfill({ contentType: "text/html", body: `<!doctype html><img alt="" src="${ELSEWHERE}">` }));
      },
    });
    await watched.page.waitForLoadState("load");
    expect(watched.requests).toContain(`${origin}/harness/elsewhere`);
    expect(watched.foreignRequests()).toEqual([ELSEWHERE]);
    await watched.close();
  });

  it("reports an inline script refused by the Content-Security-Policy", async () => {
    const watched = await openPage(browser, origin, "/harness/inline", {
      setup: (context) =>
        context.route(`${origin}/harness/inline`, (route) =>
          route.fulfill({
            contentType: "text/html",
            headers: { "content-security-policy": "default-src 'self'" },
            body: `<!doctype html><p id="ran">no</p><script>document.getElementById("ran").textContent = "yes"</script>`,
          }),
        ),
    });
    await expect.poll(() => watched.cspViolations().length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await watched.page.textContent("#ran")).toBe("no");
    expect(watched.foreignRequests()).toEqual([]);
    await watched.close();
  });
});
