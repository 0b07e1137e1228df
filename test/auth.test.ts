import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, fetchWorker } from "./helpers";
import { TEST_ADMIN_KEY, TEST_ROUTER_KEY } from "./keys";
import { DEV_ROUTER_SIGNER_KEY } from "../domain/config/dev-credentials";

/** The same Worker under another configuration, as `wrangler deploy` or `wrangler dev` would give it. */
const withEnv = async (overrides: Record<string, string | undefined>, path: string, key?: string) =>
  (await fetchWorker(new Request(`http://router.test${path}`, key ? { headers: { authorization: `Bearer ${key}` } } : {}), overrides)).response;

describe("auth", () => {
  it("leaves ping and about open", async () => {
    for (const path of ["/api/v1/ping", "/api/v1/about"]) {
      const res = await call(path, { key: null });
      expect(res.status).toBe(200);
    }
    expect(await (await call("/api/v1/ping", { key: null })).json()).toMatchObject({ status: "ok" });
  });

  it("requires the router key everywhere else", async () => {
    for (const path of ["/api/v1/info", "/api/v1/status", "/api/v1/miners", "/api/v1/sessions", "/api/v1/sessions/0", "/api/v1/tasks/0", "/api/v1/tasks/0/0"]) {
      const missing = await call(path, { key: null });
      expect(missing.status, path).toBe(401);
      expect(missing.headers.get("www-authenticate")).toContain("Bearer");
      expect(await missing.json()).toEqual({ error: { code: "unauthorized", message: "missing bearer token" } });
      const wrong = await call(path, { key: "not-the-key" });
      expect(wrong.status, path).toBe(401);
      expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    }
    const post = await call("/api/v1/completions", { method: "POST", key: null, json: { prompt: "hi", session_id: 0 } });
    expect(post.status).toBe(401);
    expect((await call("/api/v1/info")).status).toBe(200);
  });

  it("keeps admin routes to the admin key", async () => {
    const asRouter = await call("/api/v1/admin/sessions", { method: "POST", key: TEST_ROUTER_KEY, json: { name: "x" } });
    expect(asRouter.status).toBe(401);
    const asAdmin = await call("/api/v1/admin/miners/health-check", { method: "POST", key: TEST_ADMIN_KEY });
    expect(asAdmin.status).toBe(200);
  });

  it("does not accept the dev token when keys are configured", async () => {
    expect((await call("/api/v1/info", { key: "default-dev-token" })).status).toBe(401);
  });

  it("accepts the documented dev token in local development without keys", async () => {
    const res = await withEnv({ ENVIRONMENT: "development", ROUTER_API_KEYS: undefined }, "/api/v1/info", "default-dev-token");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ environment: "development" });
  });

  it("refuses to serve a production configuration that still accepts the dev token", async () => {
    const res = await withEnv({ ENVIRONMENT: "production", ROUTER_API_KEYS: "default-dev-token,real-key" }, "/api/v1/ping");
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; details: { problems: string[] } } };
    expect(body.error.code).toBe("router_misconfigured");
    expect(body.error.details.problems).toContain("ROUTER_API_KEYS contains the dev token");
    expect(JSON.stringify(body)).not.toContain("real-key");
  });

  it("refuses to serve production without secrets", async () => {
    const res = await withEnv(
      { ENVIRONMENT: "production", ROUTER_API_KEYS: undefined, ADMIN_API_KEY: undefined, MINER_CREDENTIAL_KEY: undefined },
      "/api/v1/info",
      "default-dev-token",
    );
    expect(res.status).toBe(503);
    const { error } = (await res.json()) as { error: { details: { problems: string[] } } };
    expect(error.details.problems).toEqual(expect.arrayContaining(["ROUTER_API_KEYS secret is not set", "ADMIN_API_KEY secret is not set"]));
  });

  it("refuses to sign receipts in production with the dev signer key, none, or a key that is not one", async () => {
    const problemsWith = async (key: string | undefined) => {
      const res = await withEnv({ ENVIRONMENT: "production", ROUTER_SIGNER_KEY: key }, "/api/v1/ping");
      expect(res.status).toBe(503);
      return ((await res.json()) as { error: { details: { problems: string[] } } }).error.details.problems;
    };
    expect(await problemsWith(DEV_ROUTER_SIGNER_KEY)).toEqual(["ROUTER_SIGNER_KEY is the dev key"]);
    expect(await problemsWith(undefined)).toEqual(["ROUTER_SIGNER_KEY secret is not set"]);
    expect(await problemsWith("0x1234")).toEqual(["ROUTER_SIGNER_KEY must be a 0x-prefixed 32-byte hex private key"]);
  });

  it("serves a production configuration with real secrets", async () => {
    const res = await withEnv({ ENVIRONMENT: "production" }, "/api/v1/info", TEST_ROUTER_KEY);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ environment: "production" });
  });

  it("answers unknown routes with the error shape", async () => {
    const res = await exports.default.fetch("http://router.test/api/v1/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
  });
});
