/**
 * The headers of the Worker's HTML pages (a strict Content-Security-Policy and
 * the usual security headers), and /docs's assets served by the Worker itself
 * from static assets: what a browser is told, as workerd answers it. The
 * browser's side (the page renders under that policy, nothing leaves the
 * origin) is test/browser/docs.test.ts.
 */
import { describe, expect, it } from "vitest";
import { call } from "./helpers";

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

describe("HTML pages", () => {
  it("/docs answers with a strict Content-Security-Policy and the security headers", async () => {
    const res = await call("/docs", { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toBe(CSP);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(res.headers.get("permissions-policy")).toBe("camera=(), microphone=(), geolocation=(), payment=(), usb=()");
  });

  it("/docs loads scripts and styles from its own origin only, and has no inline script or style", async () => {
    const page = await (await call("/docs", { key: null })).text();
    const scripts = [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map(([, attributes]) => /src="([^"]+)"/.exec(attributes!)?.[1])).toEqual(["/docs/swagger-ui/swagger-ui-bundle.js", "/docs/init.js"]);
    expect(scripts.every(([, , body]) => body!.trim() === "")).toBe(true);
    expect(page).not.toMatch(/<style\b|\sstyle=/);
    expect([...page.matchAll(/href="([^"]+)"/g)].map(([, href]) => href)).toEqual(["/docs/swagger-ui/favicon-32x32.png", "/docs/swagger-ui/swagger-ui.css"]);
  });

  it("serves Swagger UI's files and the page's script from the Worker's static assets", async () => {
    for (const [path, type] of [
      ["/docs/swagger-ui/swagger-ui-bundle.js", "javascript"],
      ["/docs/swagger-ui/swagger-ui.css", "text/css"],
      ["/docs/init.js", "javascript"],
    ] as const) {
      const res = await call(path, { key: null });
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toContain(type);
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect((await res.text()).length, path).toBeGreaterThan(100);
    }
    const init = await (await call("/docs/init.js", { key: null })).text();
    expect(init).toContain('url: "/openapi.json"');
  });

  it("answers the router's JSON 404 for a /docs path with no asset", async () => {
    const res = await call("/docs/nothing-here.js", { key: null });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it("leaves the API's JSON answers without a page policy", async () => {
    const res = await call("/api/v1/ping", { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toBeNull();
  });
});
