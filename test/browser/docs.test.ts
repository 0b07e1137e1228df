/**
 * /docs in a real browser: Swagger UI renders the router's OpenAPI document,
 * everything it loads comes from the router itself, and its strict
 * Content-Security-Policy refuses nothing the page needs.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, screenshot } from "./browser.ts";
import { stack } from "./stack.ts";
import { expectCleanPage, openPage } from "./watched-page.ts";

const { origin } = stack();
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe("the API reference page", () => {
  it("renders the API from /openapi.json with nothing from another origin and no policy violation", async () => {
    const watched = await openPage(browser, origin, "/docs");
    const { page } = watched;
    expect(watched.response.status()).toBe(200);
    expect(watched.response.headers()["content-security-policy"]).toContain("default-src 'self'");

    await page.locator(".swagger-ui .info .title", { hasText: "Cortensor edge router" }).waitFor();
    // The operations of the document, grouped: a few the docs are read for.
    await page.locator(".opblock-summary-path", { hasText: "/api/v1/completions/{sessionId}" }).first().waitFor();
    expect(await page.locator(".opblock").count()).toBeGreaterThan(50);
    await screenshot(page, "docs");
    // Open one: its parameters render (the schema, as the browser sees it).
    await page.locator(".opblock-summary-path", { hasText: "/api/v1/sessions/{sessionId}" }).first().click();
    await page.locator(".parameters-col_name", { hasText: "sessionId" }).first().waitFor();
    await screenshot(page, "docs-operation");

    expect(watched.requests).toContain(`${origin}/openapi.json`);
    expect(watched.requests).toContain(`${origin}/docs/swagger-ui/swagger-ui-bundle.js`);
    expectCleanPage(watched);
    await watched.close();
  });

  it("runs a request from the page (Try it out), which the policy lets reach the router", async () => {
    const watched = await openPage(browser, origin, "/docs");
    const { page } = watched;
    const ping = page.locator(".opblock", { has: page.locator(".opblock-summary-path", { hasText: /^\/api\/v1\/ping$/ }) }).first();
    await ping.locator(".opblock-summary").click();
    await ping.locator("button.try-out__btn").click();
    await ping.locator("button.execute").click();
    await ping.locator(".live-responses-table tbody .response-col_status", { hasText: "200" }).waitFor();
    expect(await ping.locator(".live-responses-table tbody .response-col_description").first().textContent()).toContain('"status"');
    expect(watched.requests).toContain(`${origin}/api/v1/ping`);
    expectCleanPage(watched);
    await screenshot(page, "docs-try-it-out");
    await watched.close();
  });

  it("fits a phone's screen", async () => {
    const watched = await openPage(browser, origin, "/docs", { viewport: { width: 390, height: 844 } });
    await watched.page.locator(".swagger-ui .info .title", { hasText: "Cortensor edge router" }).waitFor();
    // A string, evaluated in the page (this project's types have no DOM).
    const overflow = await watched.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
    expect(overflow).toBeLessThanOrEqual(0);
    expectCleanPage(watched);
    await screenshot(watched.page, "docs-phone");
    await watched.close();
  });
});
