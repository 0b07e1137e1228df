import OpenAI from "openai";
import { describe, expect, inject, it } from "vitest";
import { DEV_CUSTOMER_KEY } from "../domain/gateway/keys";
import { admin, call, createSession, fetchWorker, minerRequests, minersFor, uniq } from "./helpers";

type Envelope = {
  request_id: string | null;
  status: "ok" | "failed";
  model: string | null;
  router_pool: string | null;
  data: { session_id: number; task_id: number; choices: { text: string }[]; usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } } | null;
  error: { code: string; message: string; details?: Record<string, unknown> } | null;
};
type Issued = { id: string; key: string; prefix: string };

/** The gateway under a configuration of models and pools (read per request by the Worker). */
function gateway(vars: Record<string, string> = {}) {
  /** The response, and `settled()` for the work the gateway left to waitUntil (billing a stream). */
  const exchange = (path: string, init: { method?: string; key?: string | null; json?: unknown } = {}) =>
    fetchWorker(
      new Request(`http://gateway.test${path}`, {
        method: init.method ?? (init.json === undefined ? "GET" : "POST"),
        headers: {
          ...(init.key ? { authorization: `Bearer ${init.key}` } : {}),
          ...(init.json === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
      }),
      vars,
    );
  const send = async (path: string, init: { method?: string; key?: string | null; json?: unknown } = {}) => (await exchange(path, init)).response;
  return {
    exchange,
    send,
    complete: async (key: string | null, body: Record<string, unknown>) => {
      // Billing runs in waitUntil after the answer: settle it, so the next call sees the charge.
      const { response: res, settled } = await exchange("/v1/completions", { key, json: body });
      await settled();
      return { status: res.status, headers: res.headers, body: (await res.json()) as Envelope };
    },
  };
}

/** A customer with one key, and a session (served by a fleet miner) behind the alias "default". */
async function customer(options: { balance?: number; billing?: "prepaid" | "postpaid"; key?: Record<string, unknown> } = {}) {
  const id = uniq("cust")
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-");
  expect((await admin("/v1/admin/customers", "POST", { id, name: "Acme", billing: options.billing ?? "prepaid", balance_micros: options.balance ?? 10_000_000 })).status).toBe(201);
  const issued = (await (await admin(`/v1/admin/customers/${id}/keys`, "POST", options.key ?? {})).json()) as Issued;
  const { model } = await minersFor(["fastA"]);
  const sessionId = await createSession({ model });
  const vars = { GATEWAY_MODELS: JSON.stringify({ default: { pool: "local", session_id: sessionId }, other: { pool: "local", session_id: sessionId } }) };
  return { id, key: issued.key, keyId: issued.id, sessionId, gw: gateway(vars), vars };
}

const seedRequest = {
  model: "default",
  prompt: "Explain decentralized AI inference in one paragraph.",
  max_tokens: 160,
  temperature: 0.7,
  top_p: 1,
  stream: false,
};

describe("gateway keys", () => {
  it("issues a key once, stores only its hash, rotates and revokes it", async () => {
    const c = await customer();
    expect(c.key).toMatch(new RegExp(`^csk_${c.id}_`));
    const listed = await (await admin(`/v1/admin/customers/${c.id}/keys`, "GET")).text();
    expect(listed).not.toContain(c.key);
    expect(JSON.parse(listed).keys[0]).toMatchObject({ id: c.keyId, revoked_at: null });

    const ok = await c.gw.complete(c.key, seedRequest);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: "ok", model: "default", router_pool: "local", error: null, data: { session_id: c.sessionId } });
    expect(ok.body.request_id).toMatch(/^req_/);

    const rotated = (await (await admin(`/v1/admin/customers/${c.id}/keys/${c.keyId}/rotate`, "POST")).json()) as Issued;
    expect(rotated.key).not.toBe(c.key);
    expect((await c.gw.complete(c.key, seedRequest)).status).toBe(401);
    expect((await c.gw.complete(rotated.key, seedRequest)).status).toBe(200);

    expect((await admin(`/v1/admin/customers/${c.id}/keys/${c.keyId}`, "DELETE")).status).toBe(200);
    const revoked = await c.gw.complete(rotated.key, seedRequest);
    expect(revoked.status).toBe(401);
    expect(revoked.body).toMatchObject({ status: "failed", data: null, error: { code: "invalid_api_key" } });
  });

  it("accepts the documented dev customer key only outside production", async () => {
    const { model } = await minersFor(["fastB"]);
    const sessionId = await createSession({ model });
    const vars = { GATEWAY_MODELS: JSON.stringify({ default: { pool: "local", session_id: sessionId } }) };
    expect((await gateway({ ...vars, ENVIRONMENT: "development" }).complete(DEV_CUSTOMER_KEY, seedRequest)).status).toBe(200);
    const prod = await gateway({ ...vars, ENVIRONMENT: "production" }).complete(DEV_CUSTOMER_KEY, seedRequest);
    expect(prod.status).toBe(401);
  });

  it("refuses missing and malformed keys, and keys outside their models", async () => {
    const c = await customer({ key: { allowed_models: ["default"] } });
    expect((await c.gw.complete(null, seedRequest)).body.error!.code).toBe("invalid_api_key");
    expect((await c.gw.complete("sk-not-ours", seedRequest)).status).toBe(401);
    expect((await c.gw.complete(`csk_${c.id}_forgedforgedforgedforged`, seedRequest)).status).toBe(401);
    const other = await c.gw.complete(c.key, { ...seedRequest, model: "other" });
    expect(other.status).toBe(403);
    expect(other.body.error!.code).toBe("model_not_allowed");
  });
});

describe("gateway models and pools", () => {
  it("answers 404 for an unknown alias and 400 for bad input, in the envelope", async () => {
    const c = await customer();
    const unknown = await c.gw.complete(c.key, { ...seedRequest, model: "gpt-nope" });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ status: "failed", model: "gpt-nope", error: { code: "model_not_found" } });
    const bad = await c.gw.complete(c.key, { ...seedRequest, max_tokens: "lots" });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ status: "failed", data: null, error: { code: "invalid_request" } });
  });

  it("dispatches to a remote pool, failing over past a 5xx and an unreachable router", async () => {
    const c = await customer();
    const web = inject("web").origin;
    const hitsBefore = ((await (await fetch(`${web}/broken-router/hits`)).json()) as { hits: number }).hits;
    const vars = {
      GATEWAY_MODELS: JSON.stringify({ edge: { pool: "edge", session_id: 7 } }),
      GATEWAY_POOLS: JSON.stringify({
        edge: {
          type: "remote",
          routers: [
            { url: `${web}/broken-router`, key_secret: "EDGE_BROKEN_KEY" },
            { url: "http://127.0.0.1:9", key_secret: "EDGE_DOWN_KEY" },
            { url: inject("secondRouter").origin, key_secret: "EDGE_GOOD_KEY" },
          ],
        },
      }),
      EDGE_BROKEN_KEY: "x",
      EDGE_DOWN_KEY: "y",
      EDGE_GOOD_KEY: "default-dev-token",
    };
    const res = await gateway(vars).complete(c.key, { ...seedRequest, model: "edge" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "ok", router_pool: "edge", data: { session_id: 7 } });
    expect(((await (await fetch(`${web}/broken-router/hits`)).json()) as { hits: number }).hits).toBe(hitsBefore + 1);

    const allDown = await gateway({
      ...vars,
      GATEWAY_POOLS: JSON.stringify({ edge: { type: "remote", routers: [{ url: `${web}/broken-router`, key_secret: "EDGE_BROKEN_KEY" }] } }),
    }).complete(c.key, {
      ...seedRequest,
      model: "edge",
    });
    expect(allDown.status).toBe(502);
    expect(allDown.body.error).toMatchObject({ code: "router_pool_unavailable" });
  });
});

describe("gateway streaming", () => {
  it("passes the router's live stream through and bills it once it has ended", async () => {
    const id = uniq("cust")
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, "-");
    await admin("/v1/admin/customers", "POST", { id, name: "Streamer", balance_micros: 10_000_000 });
    const { key } = (await (await admin(`/v1/admin/customers/${id}/keys`, "POST", {})).json()) as Issued;
    const { model } = await minersFor(["trickle"]);
    const sessionId = await createSession({ model });
    const gw = gateway({ GATEWAY_MODELS: JSON.stringify({ default: { pool: "local", session_id: sessionId } }) });
    const { response: res, settled } = await gw.exchange("/v1/completions", { key, json: { ...seedRequest, max_tokens: 10, stream: true, request_id: "gw-stream-1" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/^data: \{/);
    // Live: the task is still running while the first piece is in hand (the
    // trickling miner takes seconds over the rest, so this look comes first).
    const during = (await (await call(`/api/v1/tasks/${sessionId}/0`)).json()) as { status: string };
    expect(["assigned", "precommitted"]).toContain(during.status);
    let rest = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest.trim().endsWith("data: [DONE]")).toBe(true);
    // Billing runs in waitUntil once the stream has ended: wait for it, then read the usage.
    await settled();
    const { usage } = (await (await gw.send("/v1/usage", { key })).json()) as { usage: { request_id: string; status: string; completion_tokens: number; cost_micros: number }[] };
    const billed = usage.find((u) => u.request_id === "gw-stream-1");
    expect(billed).toMatchObject({ status: "ok", completion_tokens: 10 });
    expect(billed!.cost_micros).toBeGreaterThan(0);
  });
});

describe("usage and billing", () => {
  it("records usage and charges the balance for every request", async () => {
    const c = await customer({ balance: 5_000_000 });
    for (let i = 0; i < 3; i++) expect((await c.gw.complete(c.key, { ...seedRequest, prompt: `request ${i}` })).status).toBe(200);
    await c.gw.complete(c.key, { ...seedRequest, model: "gpt-nope" });

    const mine = (await (await c.gw.send("/v1/usage", { key: c.key })).json()) as {
      usage: {
        status: string;
        cost_micros: number;
        total?: number;
        prompt_tokens: number;
        completion_tokens: number;
        model: string;
        router_pool: string;
        task_id: number | null;
      }[];
    };
    const ok = mine.usage.filter((u) => u.status === "ok");
    expect(ok).toHaveLength(3);
    for (const u of ok) {
      expect(u).toMatchObject({ model: "default", router_pool: "local" });
      expect(u.completion_tokens).toBeGreaterThan(0);
      // Default prices: 100 micros per 1k prompt tokens, 200 per 1k completion tokens.
      expect(u.cost_micros).toBe(Math.ceil((u.prompt_tokens * 100 + u.completion_tokens * 200) / 1000));
    }
    const spent = ok.reduce((n, u) => n + u.cost_micros, 0);
    const balance = (await (await c.gw.send("/v1/balance", { key: c.key })).json()) as { balance_micros: number; spent_micros: number };
    expect(balance).toEqual({ customer_id: c.id, billing: "prepaid", balance_micros: 5_000_000 - spent, spent_micros: spent });
    const asAdmin = (await (await admin(`/v1/admin/customers/${c.id}/usage?limit=2`, "GET")).json()) as { usage: unknown[]; next_before: number | null };
    expect(asAdmin.usage).toHaveLength(2);
    expect(asAdmin.next_before).not.toBeNull();
  });

  it("answers an idempotent retry from the first request and bills it once", async () => {
    const c = await customer();
    const first = await c.gw.complete(c.key, { ...seedRequest, request_id: "gw-retry-1" });
    const served = await minerRequests("fastA");
    const again = await c.gw.complete(c.key, { ...seedRequest, request_id: "gw-retry-1" });
    expect(again.body.data).toEqual(first.body.data);
    expect(await minerRequests("fastA")).toBe(served);
    const { usage } = (await (await c.gw.send("/v1/usage", { key: c.key })).json()) as { usage: { request_id: string }[] };
    expect(usage.filter((u) => u.request_id === "gw-retry-1")).toHaveLength(1);
  });

  it("refuses with 402 before dispatch when a spend limit or an empty balance would be exceeded", async () => {
    const limited = await customer({ key: { spend_limit_micros: 10 } });
    const before = await minerRequests("fastA");
    const res = await limited.gw.complete(limited.key, seedRequest);
    expect(res.status).toBe(402);
    expect(res.body.error!.code).toBe("spend_limit_reached");
    const broke = await customer({ balance: 0 });
    const empty = await broke.gw.complete(broke.key, seedRequest);
    expect(empty.status).toBe(402);
    expect(empty.body.error!.code).toBe("insufficient_balance");
    expect(await minerRequests("fastA")).toBe(before);
    // Postpaid customers have no balance to run out of.
    const postpaid = await customer({ balance: 0, billing: "postpaid" });
    expect((await postpaid.gw.complete(postpaid.key, seedRequest)).status).toBe(200);
  });

  it("rate-limits per key with 429 and retry_after", async () => {
    const c = await customer({ key: { requests_per_minute: 2 } });
    expect((await c.gw.complete(c.key, seedRequest)).status).toBe(200);
    expect((await c.gw.complete(c.key, seedRequest)).status).toBe(200);
    const limited = await c.gw.complete(c.key, seedRequest);
    expect(limited.status).toBe(429);
    expect(limited.body.error!.code).toBe("rate_limited");
    expect(Number(limited.body.error!.details!["retry_after"])).toBeGreaterThan(0);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("OpenAI compatibility", () => {
  const client = () => new OpenAI({ baseURL: `${inject("secondRouter").origin}/openai/v1`, apiKey: DEV_CUSTOMER_KEY, maxRetries: 0 });

  it("serves the official openai client: models, completion, chat, streaming", async () => {
    const openai = client();
    const models = await openai.models.list();
    expect(models.data.map((m) => m.id)).toContain("default");

    const completion = await openai.completions.create({ model: "default", prompt: "Say hello", max_tokens: 12 });
    expect(completion.object).toBe("text_completion");
    expect(completion.model).toBe("default");
    expect(completion.choices[0]!.text.split(" ")).toHaveLength(12);
    expect(completion.usage!.completion_tokens).toBe(12);

    const chat = await openai.chat.completions.create({ model: "default", messages: [{ role: "user", content: "Hi" }], max_tokens: 8 });
    expect(chat.choices[0]!.message.role).toBe("assistant");
    expect(chat.choices[0]!.message.content!.split(" ")).toHaveLength(8);

    const stream = await openai.chat.completions.create({ model: "default", messages: [{ role: "user", content: "Hi" }], max_tokens: 8, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text).toBe(chat.choices[0]!.message.content);
  });

  it("raises the client's own errors for a bad key and an unknown model", async () => {
    await expect(new OpenAI({ baseURL: `${inject("secondRouter").origin}/openai/v1`, apiKey: "csk_dev_wrongwrongwrongwrong", maxRetries: 0 }).models.list()).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
    await expect(client().completions.create({ model: "nope", prompt: "x" })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});
