import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DEV_CUSTOMER_KEY } from "../domain/gateway/keys";
import worker from "../workers/index";
import { TEST_ROUTER_KEY } from "./keys";

/** One request to the Worker with a raw body, under the test configuration plus `vars`. */
async function send(path: string, init: { body?: string; key?: string | null; contentType?: string; vars?: Record<string, string> } = {}) {
  const headers = new Headers({ "content-type": init.contentType ?? "application/json", accept: "application/json, text/event-stream" });
  if (init.key !== null) headers.set("authorization", `Bearer ${init.key ?? TEST_ROUTER_KEY}`);
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://router.test${path}`, { method: "POST", headers, ...(init.body === undefined ? {} : { body: init.body }) }),
    { ...env, ...init.vars },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { status: res.status, body: await res.json<Record<string, unknown>>() };
}

const big = JSON.stringify({ prompt: "x".repeat(2048) });

describe("every surface answers its errors in its own shape", () => {
  it("router routes: the error body", async () => {
    const bad = await send("/api/v1/completions/0", { body: "{not json" });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });
    const tooBig = await send("/api/v1/completions/0", { body: big, vars: { MAX_BODY_BYTES: "1024" } });
    expect(tooBig).toMatchObject({ status: 413, body: { error: { code: "payload_too_large" } } });
  });

  it("the gateway's envelope route: the envelope, for bad JSON, an empty body and an oversized one", async () => {
    for (const [body, status, code] of [
      ["{not json", 400, "invalid_request"],
      ["", 400, "invalid_request"],
      [big, 413, "payload_too_large"],
    ] as const) {
      const res = await send("/v1/completions", { body, key: DEV_CUSTOMER_KEY, vars: { MAX_BODY_BYTES: "1024" } });
      expect(res.status).toBe(status);
      expect(res.body).toMatchObject({ status: "failed", data: null, error: { code } });
    }
  });

  it("the OpenAI-compatible routes: OpenAI's error shape, naming the parameter", async () => {
    const bad = await send("/openai/v1/chat/completions", { body: "{not json", key: DEV_CUSTOMER_KEY });
    expect(bad).toMatchObject({ status: 400, body: { error: { type: "invalid_request_error", code: "invalid_request" } } });
    const missing = await send("/v1/chat/completions", { body: JSON.stringify({ model: "default" }), key: DEV_CUSTOMER_KEY });
    expect(missing).toMatchObject({ status: 400, body: { error: { type: "invalid_request_error", param: "messages" } } });
    const tooBig = await send("/openai/v1/completions", { body: big, key: DEV_CUSTOMER_KEY, vars: { MAX_BODY_BYTES: "1024" } });
    expect(tooBig).toMatchObject({ status: 413, body: { error: { type: "invalid_request_error", code: "payload_too_large" } } });
  });

  it("the JSON-RPC surfaces (A2A, MCP): JSON-RPC errors, with the HTTP status kept", async () => {
    for (const path of ["/api/v1/a2a", "/mcp"]) {
      const unauthenticated = await send(path, { key: null, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }) });
      expect(unauthenticated.status).toBe(401);
      expect(unauthenticated.body).toMatchObject({ jsonrpc: "2.0", id: null, error: { data: { code: "unauthorized" } } });
      const tooBig = await send(path, { body: big, vars: { MAX_BODY_BYTES: "1024" } });
      expect(tooBig.status).toBe(413);
      expect(tooBig.body).toMatchObject({ jsonrpc: "2.0", error: { code: -32600 } });
    }
    const malformed = await send("/api/v1/a2a", { body: "{not json" });
    expect(malformed.body).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32700 } });
  });

  it("an unsafe configuration: 503 router_misconfigured, in the surface's shape", async () => {
    const vars = { ENVIRONMENT: "production", ADMIN_API_KEY: "" };
    expect(await send("/api/v1/completions/0", { body: "{}", vars })).toMatchObject({ status: 503, body: { error: { code: "router_misconfigured" } } });
    expect(await send("/v1/completions", { body: "{}", vars })).toMatchObject({ status: 503, body: { status: "failed", error: { code: "router_misconfigured" } } });
  });
});

describe("MCP's malformed requests", () => {
  it("answers bad JSON and a body that is no JSON-RPC message with JSON-RPC errors", async () => {
    const badJson = await send("/mcp", { body: "{not json" });
    expect(badJson.body).toMatchObject({ jsonrpc: "2.0", error: { code: -32700 } });
    const notRpc = await send("/mcp", { body: JSON.stringify({ hello: "world" }) });
    expect(notRpc.status).toBeGreaterThanOrEqual(400);
    expect(notRpc.body).toMatchObject({ jsonrpc: "2.0", error: { code: expect.any(Number) } });
  });
});
