import { describe, expect, it } from "vitest";
import { call, fetchWorker, gatewayCustomer, uniqSessionId } from "./helpers";

describe("GET /v1/models", () => {
  it("dates each alias by its session's creation, and says null where this router holds no such time", async () => {
    const c = await gatewayCustomer("models");
    const session = (await (await call(`/api/v1/sessions/${c.sessionId}`)).json()) as { created_at: string };
    const notYetCreated = uniqSessionId();
    const vars = {
      GATEWAY_MODELS: JSON.stringify({
        default: { pool: "local", session_id: c.sessionId },
        later: { pool: "local", session_id: notYetCreated },
        edge: { pool: "edge", session_id: 7 },
      }),
      GATEWAY_POOLS: JSON.stringify({ local: { type: "local" }, edge: { type: "remote", routers: [{ url: "https://r1.example", key_secret: "EDGE_R1_KEY" }] } }),
      EDGE_R1_KEY: "x",
    };
    for (const path of ["/v1/models", "/openai/v1/models"]) {
      const { response } = await fetchWorker(new Request(`http://router.test${path}`, { headers: { authorization: `Bearer ${c.issued.key}` } }), vars);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        object: "list",
        data: [
          { id: "default", object: "model", created: Math.floor(Date.parse(session.created_at) / 1000), owned_by: "cortensor" },
          { id: "later", object: "model", created: null, owned_by: "cortensor" },
          { id: "edge", object: "model", created: null, owned_by: "cortensor" },
        ],
      });
    }
  });
});
