import { describe, expect, it } from "vitest";
import { call } from "./helpers";

/** The operator console's page and files, as a browser gets them from the Worker (wrangler.toml [assets], workers/console/). */
describe("the console at /console", () => {
  it("serves the page as HTML, read again each time, with only external scripts", async () => {
    for (const path of ["/console", "/console/"]) {
      const res = await call(path, { key: null });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      // The pages' policy (workers/pages/security-headers.ts): the page's own scripts, no inline ones, no other origin.
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      const html = await res.text();
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attrs, body] of scripts) {
        expect(attrs).toMatch(/src="\/console\/assets\/[^"]+\.js"/);
        expect(body?.trim()).toBe("");
      }
      expect(html).not.toMatch(/<style\b|\sstyle="|https?:\/\//);
    }
  });

  it("serves the page's script and stylesheet with their types, cacheable for good", async () => {
    const html = await (await call("/console", { key: null })).text();
    const files = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1] ?? "");
    expect(files.some((f) => f.endsWith(".js"))).toBe(true);
    expect(files.some((f) => f.endsWith(".css"))).toBe(true);
    for (const file of files) {
      const res = await call(file, { key: null });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(file.endsWith(".js") ? /^(text|application)\/javascript/ : /^text\/css/);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      await res.arrayBuffer();
    }
  });

  it("answers 404 for a file it does not have, and never serves the API's paths from files", async () => {
    const missing = await call("/console/assets/missing.js", { key: null });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "not_found" } });
    const ping = await call("/api/v1/ping", { key: null });
    expect(ping.headers.get("content-type")).toMatch(/^application\/json/);
  });
});
