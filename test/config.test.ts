/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import worker from "../workers/index";
import { loadConfig, VAR_NAMES } from "../domain/config/config";
import type { Env } from "../workers/env";
import wranglerToml from "../wrangler.toml?raw";

const ErrorBody = z.object({ error: z.object({ code: z.string(), details: z.object({ problems: z.array(z.string()).optional() }).optional() }).optional() });

/** The Worker under another configuration, as `wrangler deploy` or `wrangler dev` would give it. */
async function problemsWith(overrides: Record<string, string | undefined>, path = "/api/v1/ping") {
  const res = await worker.fetch(new Request(`http://router.test${path}`), { ...env, ...overrides }, createExecutionContext());
  const body = ErrorBody.parse(await res.json());
  return { status: res.status, code: body.error?.code, problems: body.error?.details?.problems ?? [] };
}

/** The `NAME = value` lines of wrangler.toml's [vars], and the `# NAME = value` examples among them. */
function wranglerVars() {
  const section = wranglerToml.split(/^\[vars\]$/m)[1]?.split(/^\[/m)[0] ?? "";
  const set: Record<string, string> = {};
  const documented: string[] = [];
  for (const line of section.split("\n")) {
    const active = /^([A-Z][A-Z0-9_]*)\s*=\s*(?:"([^"]*)"|'([^']*)')\s*$/.exec(line);
    if (active?.[1]) set[active[1]] = active[2] ?? active[3] ?? "";
    const example = /^#\s*([A-Z][A-Z0-9_]*)\s*=/.exec(line);
    if (example?.[1]) documented.push(example[1]);
  }
  return { set, documented };
}

describe("configuration", () => {
  it("refuses every request with 503 when PAYLOAD_BACKENDS does not parse, naming the var", async () => {
    for (const PAYLOAD_BACKENDS of ["[{", '[{"index": 0, "binding": "PAYLOADS"}]', "[]"]) {
      const res = await problemsWith({ PAYLOAD_BACKENDS });
      expect(res, PAYLOAD_BACKENDS).toMatchObject({ status: 503, code: "router_misconfigured" });
      expect(
        res.problems.some((p) => p.startsWith("PAYLOAD_BACKENDS")),
        PAYLOAD_BACKENDS,
      ).toBe(true);
    }
  });

  it("refuses a PAYLOAD_BACKENDS naming an R2 binding the Worker does not have", async () => {
    const res = await problemsWith({ PAYLOAD_BACKENDS: JSON.stringify([{ index: 0, binding: "NO_SUCH_BUCKET", bucket: "cortensor-payloads" }]) });
    expect(res.status).toBe(503);
    expect(res.problems).toContain("PAYLOAD_BACKENDS: backend 0 names binding NO_SUCH_BUCKET, which is not an R2 bucket binding");
  });

  it("refuses every request with 503 when GATEWAY_MODELS does not parse, in development too", async () => {
    for (const ENVIRONMENT of ["test", "development"]) {
      for (const path of ["/api/v1/ping", "/api/v1/info", "/v1/models"]) {
        const res = await problemsWith({ ENVIRONMENT, GATEWAY_MODELS: "{" }, path);
        expect(res, `${ENVIRONMENT} ${path}`).toMatchObject({ status: 503, code: "router_misconfigured" });
        // The OpenAI surface (/v1/models) states errors in OpenAI's shape, without details.
        if (path.startsWith("/api/")) expect(res.problems).toEqual([expect.stringMatching(/^GATEWAY_MODELS: must be JSON/)]);
      }
    }
    const wrongShape = await problemsWith({ GATEWAY_MODELS: JSON.stringify({ default: { pool: "local" } }) });
    expect(wrongShape.status).toBe(503);
    expect(wrongShape.problems).toEqual([expect.stringMatching(/^GATEWAY_MODELS\.default\.session_id: /)]);
  });

  it("refuses a gateway alias on an unknown pool, and a remote pool whose key secret is not set", async () => {
    const unknownPool = await problemsWith({ GATEWAY_MODELS: JSON.stringify({ default: { pool: "edge", session_id: 0 } }) });
    expect(unknownPool.status).toBe(503);
    expect(unknownPool.problems).toEqual(["GATEWAY_MODELS: alias default names unknown pool edge"]);
    const noSecret = await problemsWith({
      GATEWAY_POOLS: JSON.stringify({ local: { type: "local" }, edge: { type: "remote", routers: [{ url: "https://r1.example", key_secret: "EDGE_R1_KEY" }] } }),
    });
    expect(noSecret.status).toBe(503);
    expect(noSecret.problems).toEqual(["GATEWAY_POOLS: pool edge names secret EDGE_R1_KEY, which is not set"]);
  });

  it("names each malformed var: x402, trial, numbers", async () => {
    const res = await problemsWith({ X402_PRICES: '{"completions": "ten cents"}', TRIAL_SESSION_IDS: "0,abc", TRIAL_ROUTES: "everything", MAX_BODY_BYTES: "lots" });
    expect(res.status).toBe(503);
    expect(res.problems.map((p) => p.split(/[.:]/)[0]).sort()).toEqual(["MAX_BODY_BYTES", "TRIAL_ROUTES", "TRIAL_SESSION_IDS", "X402_PRICES"]);
  });

  it("reads a var set to the empty string as unset", async () => {
    const config = loadConfig({ ...env, MAX_BODY_BYTES: "", GATEWAY_MODELS: "", X402_NETWORK: " " });
    expect(config.problems).toEqual([]);
    expect(config.maxBodyBytes).toBe(1_048_576);
    expect(config.x402.network).toBe("eip155:84532");
    expect(Object.keys(config.gateway.models)).toEqual(["default"]);
  });

  it("parses the configuration once per env object", () => {
    const own: Env = { ...env };
    expect(loadConfig(own)).toBe(loadConfig(own));
    expect(loadConfig({ ...env })).not.toBe(loadConfig(own));
  });

  it("wrangler.toml [vars] names only vars the router reads, and sets only their defaults", () => {
    const { set, documented } = wranglerVars();
    expect(Object.keys(set).length).toBeGreaterThan(0);
    for (const name of [...Object.keys(set), ...documented]) expect(VAR_NAMES.has(name), name).toBe(true);
    // What wrangler.toml sets must not contradict the schema: each value reads as the var left out.
    const unset: Env = { ...env, ...Object.fromEntries(Object.keys(set).map((name) => [name, undefined])) };
    for (const [name, value] of Object.entries(set)) {
      expect(loadConfig({ ...unset, [name]: value }), name).toEqual(loadConfig({ ...unset }));
    }
  });
});
