import { describe, expect, it } from "vitest";
import { call } from "./helpers";

describe("API description", () => {
  it("serves an OpenAPI 3.1 document generated from the routes", async () => {
    const res = await call("/openapi.json", { key: null });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown; security?: unknown }>>;
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toBe("3.1.0");
    for (const path of [
      "/api/v1/ping",
      "/api/v1/about",
      "/api/v1/info",
      "/api/v1/status",
      "/api/v1/miners",
      "/api/v1/sessions",
      "/api/v1/sessions/{sessionId}",
      "/api/v1/tasks/{sessionId}",
      "/api/v1/tasks/{sessionId}/{taskId}",
      "/api/v1/completions",
      "/api/v1/completions/{sessionId}",
      "/api/v1/admin/sessions",
      "/api/v1/admin/miners",
      "/api/v2/completions/{sessionId}",
      "/api/v3/completions",
      "/api/v3/offchain/payload",
      "/api/v3/offchain/result",
      "/api/v1/auth/payload_enc_key/session",
      "/api/v1/auth/payload_enc_key/task",
      "/api/v2/delegate",
      "/api/v3/validate",
      "/api/v1/fact-check",
      "/api/v1/trial/completions",
      "/api/v1/x402/completions/{sessionId}",
      "/api/v1/x402/ping",
      "/.well-known/agent-card.json",
      "/api/v1/a2a",
      "/mcp",
      "/v1/completions",
      "/openai/v1/chat/completions",
      "/v1/admin/customers/{customerId}/keys",
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(doc.paths["/api/v1/completions"]!["post"]!.requestBody).toBeDefined();
    expect(doc.paths["/api/v1/info"]!["get"]!.security).toEqual([{ bearer: [] }]);
    expect(doc.components.schemas).toHaveProperty("CompletionRequest");
    expect(doc.components.schemas).toHaveProperty("Error");
    expect(doc.components.securitySchemes).toHaveProperty("bearer");
  });

  it("serves a browsable reference page", async () => {
    const res = await call("/docs", { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    // Swagger UI, started by a served script that points it at /openapi.json (test/page-headers.test.ts).
    expect(await res.text()).toContain('<script src="/docs/init.js"></script>');
  });
});
