import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { admin, call, createSession, fetchWorker, fleet, minersFor, uniq } from "./helpers";
import { TEST_ADMIN_KEY, TEST_CREDENTIAL_KEY, TEST_PAYLOAD_MASTER_KEY, TEST_ROUTER_KEY } from "./keys";

const BASE = "/neuroshard/api/v1";

type NodeError = { error: { code: string; message: string; details?: Record<string, unknown> } };
type Metrics = {
  timestamp: string;
  inference: { requests_total: number; requests_per_minute: number; avg_latency_ms: number | null; p99_latency_ms: number | null; tokens_generated: number };
  rewards: { earned_today: number; earned_total: number; pending: number };
};
type Answer = {
  id: string;
  text: string;
  tokens_generated: number;
  finish_reason: string;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  cost: { amount: number; currency: string };
  timing: { queue_ms: number; inference_ms: number; total_ms: number };
};

/** A gateway customer with one key, and the alias NEUROSHARD_MODEL names ("default") on a session of its own over `miners`. */
async function nodeCustomer(options: { balance?: number; key?: Record<string, unknown>; miners?: Parameters<typeof minersFor>[0]; redundancy?: number } = {}) {
  const id = uniq("ns-cust")
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-");
  expect((await admin("/v1/admin/customers", "POST", { id, name: "Node client", billing: "prepaid", balance_micros: options.balance ?? 10_000_000 })).status).toBe(201);
  const issued = (await (await admin(`/v1/admin/customers/${id}/keys`, "POST", options.key ?? {})).json()) as { id: string; key: string };
  const { model } = await minersFor(options.miners ?? ["fastA"]);
  const sessionId = await createSession({ model, redundancy: options.redundancy ?? 1, commit_policy: "all" });
  const vars = { GATEWAY_MODELS: JSON.stringify({ default: { pool: "local", session_id: sessionId } }) };
  const send = async (path: string, init: { method?: string; key?: string | null; json?: unknown } = {}) => {
    const key = init.key === undefined ? issued.key : init.key;
    const { response, settled } = await fetchWorker(
      new Request(`http://node.test${path}`, {
        method: init.method ?? (init.json === undefined ? "GET" : "POST"),
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(init.json === undefined ? {} : { "content-type": "application/json" }) },
        ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
      }),
      vars,
    );
    await settled();
    return response;
  };
  return { id, key: issued.key, sessionId, send };
}

const metrics = async () => (await (await call(`${BASE}/metrics`, { key: null })).json()) as Metrics;

describe("status, health, metrics", () => {
  it("status answers the seed's fields for this router as the gateway node", async () => {
    await minersFor(["fastA"]);
    const res = await call(`${BASE}/status`, { key: null });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["layers", "node_id", "peer_count", "resources", "role", "status", "training", "uptime_seconds", "version"]);
    expect(body).toMatchObject({ role: "driver", layers: [], status: "running", version: "0.1.0", training: { enabled: false } });
    expect(body["peer_count"]).toBeGreaterThan(0);
    // Since this isolate first answered, not since the epoch (a Worker's clock reads 0 while its module loads).
    expect(body["uptime_seconds"]).toBeLessThan(24 * 60 * 60);
  });

  it("metrics grow by exactly N after N tasks, and the Prometheus text says the same", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const before = await metrics();
    const n = 3;
    let tokens = 0;
    for (let i = 0; i < n; i++) {
      const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: `metrics ${i} ${uniq("m")}`, max_tokens: 5 + i } });
      expect(res.status).toBe(200);
      tokens += ((await res.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens;
    }
    const after = await metrics();
    expect(after.inference.requests_total - before.inference.requests_total).toBe(n);
    expect(after.inference.tokens_generated - before.inference.tokens_generated).toBe(tokens);
    expect(after.inference.requests_per_minute).toBeGreaterThanOrEqual(n);
    expect(after.inference.avg_latency_ms).not.toBeNull();
    expect(after.inference.p99_latency_ms).toBeGreaterThanOrEqual(0);
    // No miner here has a payout account: the tasks paid nothing (test/neuroshard-one-token.test.ts has rewards paid).
    expect(after).toMatchObject({ training: { steps_total: null }, network: { bytes_sent: null }, rewards: before.rewards });

    const text = await call("/neuroshard/metrics", { key: null });
    expect(text.headers.get("content-type")).toContain("text/plain");
    const families = parsePrometheusTextFormat(await text.text());
    const value = (name: string) => Number(families.find((f) => f.name === name)?.metrics[0]?.value);
    expect(families.find((f) => f.name === "neuroshard_inference_requests_total")?.type).toBe("COUNTER");
    expect(value("neuroshard_inference_requests_total")).toBe(after.inference.requests_total);
    expect(value("neuroshard_inference_tokens_generated_total")).toBe(after.inference.tokens_generated);
    expect(value("neuroshard_rewards_earned_total")).toBe(after.rewards.earned_total);
  });
});

describe("peers", () => {
  it("lists miners with host only, role and layers as NeuroShard nodes report them, and never a credential", async () => {
    const { ids } = await minersFor(["nsB", "fastB"]);
    await admin("/api/v1/admin/miners/health-check", "POST");
    expect((await call(`${BASE}/peers`, { key: null })).status).toBe(401);
    const res = await call(`${BASE}/peers`);
    expect(res.status).toBe(200);
    const raw = await res.text();
    for (const m of Object.values(fleet())) expect(raw).not.toContain(m.token);
    const { peers, total } = JSON.parse(raw) as {
      peers: { id: string; address: string; role: string; layers: number[]; latency_ms: number | null; connected_since: string }[];
      total: number;
    };
    expect(total).toBe(peers.length);
    const ns = peers.find((p) => p.id === ids.nsB)!;
    expect(ns).toMatchObject({ address: new URL(fleet().nsB.url).host, role: "validator", layers: [4, 5, 6, 7] });
    expect(peers.find((p) => p.id === ids.fastB)).toMatchObject({ role: "full_model", layers: [] });
  });
});

describe("every seed endpoint", () => {
  it("answers the seed's fields", async () => {
    await minersFor(["nsA", "fastA"]);
    await admin("/api/v1/admin/miners/health-check", "POST");
    const get = async (path: string) => (await (await call(path)).json()) as Record<string, unknown>;
    const has = (body: Record<string, unknown>, keys: string[]) => expect(Object.keys(body)).toEqual(expect.arrayContaining(keys));
    has(await get(`${BASE}/status`), ["node_id", "version", "uptime_seconds", "status", "role", "layers", "peer_count", "training", "resources"]);
    const metrics = await get(`${BASE}/metrics`);
    has(metrics, ["timestamp", "inference", "training", "network", "rewards"]);
    has(metrics["inference"] as Record<string, unknown>, ["requests_total", "requests_per_minute", "avg_latency_ms", "p99_latency_ms", "tokens_generated"]);
    has(await get(`${BASE}/health`), ["healthy", "checks"]);
    const peers = await get(`${BASE}/peers`);
    has(peers, ["peers", "total"]);
    has((peers["peers"] as Record<string, unknown>[])[0]!, ["id", "address", "role", "layers", "latency_ms", "connected_since"]);
    const layers = await get(`${BASE}/layers`);
    has(layers, ["layers", "total_layers", "my_layer_count"]);
    has((layers["layers"] as Record<string, unknown>[])[0]!, ["index", "type", "memory_mb", "status"]);
    const network = await get(`${BASE}/network`);
    has(network, ["nodes", "architecture", "capacity", "training"]);
    has(network["nodes"] as Record<string, unknown>, ["total", "drivers", "workers", "validators"]);
    has(await get(`${BASE}/config`), ["node_id", "port", "grpc_port", "tracker_url", "training", "resources"]);
    has(await get(`${BASE}/proofs?limit=10`), ["proofs", "stats"]);
    has(await get("/neuroshard/api/training/global"), [
      "global_avg_loss",
      "global_min_loss",
      "hash_agreement_rate",
      "total_nodes_training",
      "successful_syncs",
      "failed_syncs",
      "sync_success_rate",
      "global_steps",
      "global_tokens",
      "data_shards_covered",
      "is_converging",
      "training_verified",
      "loss_trend",
      "local",
      "diloco",
    ]);
    has(await get("/neuroshard/api/training/verify"), ["is_working", "reason"]);
  });
});

describe("config", () => {
  it("answers the seed's node fields and the router's settings, never a secret", async () => {
    expect((await call(`${BASE}/config`, { key: null })).status).toBe(401);
    const res = await call(`${BASE}/config`);
    expect(res.status).toBe(200);
    const raw = await res.text();
    const body = JSON.parse(raw) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["grpc_port", "node_id", "port", "resources", "router", "tracker_url", "training"]);
    expect(body).toMatchObject({ node_id: "cortensor-edge-router", training: { enabled: false }, router: { environment: "test", inference_model: "default" } });
    for (const secret of [TEST_ADMIN_KEY, TEST_ROUTER_KEY, TEST_CREDENTIAL_KEY, TEST_PAYLOAD_MASTER_KEY]) expect(raw).not.toContain(secret);
  });
});

describe("layers and proofs", () => {
  it("layers lists what the NeuroShard miners report, with their holders", async () => {
    const { ids } = await minersFor(["nsA", "nsB"]);
    await admin("/api/v1/admin/miners/health-check", "POST");
    expect((await call(`${BASE}/layers`, { key: null })).status).toBe(401);
    const body = (await (await call(`${BASE}/layers`)).json()) as { layers: { index: number; status: string; holders: string[] }[]; my_layer_count: number };
    expect(body.my_layer_count).toBe(0);
    expect(body.layers.find((l) => l.index === 0)).toMatchObject({ status: "active", holders: expect.arrayContaining([ids.nsA]) });
    expect(body.layers.find((l) => l.index === 5)).toMatchObject({ status: "active", holders: expect.arrayContaining([ids.nsB]) });
  });

  it("proofs are the tasks' consensus records: precommit hash, verified when a majority agreed", async () => {
    const { model } = await minersFor(["fastA", "fastB", "nsWrong"]);
    const sessionId = await createSession({ model, redundancy: 3, commit_policy: "all" });
    const before = (await (await call(`${BASE}/proofs?limit=1`)).json()) as { stats: { total_submitted: number; total_verified: number; total_reward: number } };
    const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: `proof ${uniq("p")}` } });
    const completion = (await res.json()) as { task_id: number; miners: { agreed: boolean | null; precommit_hash: string | null }[] };
    const body = (await (await call(`${BASE}/proofs?limit=1`)).json()) as {
      proofs: { id: string; type: string; verified: boolean; precommit_hash: string; consensus: string; agreed: number; redundancy: number; reward: number }[];
      stats: { total_submitted: number; total_verified: number; total_reward: number };
    };
    expect(body.proofs).toHaveLength(1);
    expect(body.proofs[0]).toMatchObject({
      id: `proof_${sessionId}_${completion.task_id}`,
      type: "inference",
      verified: true,
      consensus: "majority",
      agreed: 2,
      redundancy: 3,
      // No miner here has a payout account: the task paid nothing.
      reward: 0,
      precommit_hash: completion.miners.find((m) => m.agreed)!.precommit_hash,
    });
    expect(body.stats).toEqual({ total_submitted: before.stats.total_submitted + 1, total_verified: before.stats.total_verified + 1, total_reward: before.stats.total_reward });
    const bad = await call(`${BASE}/proofs?limit=0`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as NodeError).error).toMatchObject({ code: "INVALID_REQUEST", details: { field: "limit" } });
  });
});

describe("inference", () => {
  it("answers the seed's response, cost at the gateway's price, timing measured", async () => {
    const c = await nodeCustomer({ miners: ["fastA", "fastB", "nsA"], redundancy: 3 });
    const res = await c.send(`${BASE}/inference`, {
      json: { prompt: "Explain quantum computing in simple terms.", max_tokens: 20, temperature: 0.7, top_p: 0.9, top_k: 40, stream: false },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Answer;
    expect(Object.keys(body).sort()).toEqual(["cost", "finish_reason", "id", "text", "timing", "tokens_generated", "usage"]);
    expect(body.text.split(" ")).toHaveLength(20);
    expect(body.tokens_generated).toBe(20);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
    // The default price: 100 micro-dollars per 1k prompt tokens, 200 per 1k completion tokens.
    expect(body.cost).toEqual({ amount: Math.ceil((body.usage.prompt_tokens * 100 + body.usage.completion_tokens * 200) / 1000) / 1_000_000, currency: "USD" });
    expect(body.timing.total_ms).toBe(body.timing.queue_ms + body.timing.inference_ms);
    const { usage } = (await (await c.send("/v1/usage")).json()) as { usage: { request_id: string; cost_micros: number }[] };
    expect(usage.find((u) => u.request_id === body.id)?.cost_micros).toBe(Math.round(body.cost.amount * 1_000_000));
  });

  it("streams tokens with contiguous indexes, then [DONE] with finish_reason and usage, the text equal to the plain answer", async () => {
    const c = await nodeCustomer({ miners: ["nsStreamer"] });
    const prompt = `Write a poem about AI. ${uniq("p")}`;
    const res = await c.send(`${BASE}/inference`, { json: { prompt, max_tokens: 12, stream: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = (await res.text())
      .split("\n\n")
      .filter(Boolean)
      .map((e) => JSON.parse(e.replace(/^data: /, "")) as { token: string; index?: number; finish_reason?: string; usage?: { completion_tokens: number } });
    const tokens = events.slice(0, -1);
    expect(tokens.map((t) => t.index)).toEqual(tokens.map((_, i) => i));
    expect(events.at(-1)).toMatchObject({ token: "[DONE]", finish_reason: "length", usage: { completion_tokens: 12 } });
    const plain = (await (await c.send(`${BASE}/inference`, { json: { prompt, max_tokens: 12 } })).json()) as Answer;
    expect(tokens.map((t) => t.token).join("")).toBe(plain.text);
  });
});

describe("errors in the seed's shape", () => {
  it("UNAUTHORIZED without a customer key", async () => {
    const c = await nodeCustomer();
    const res = await c.send(`${BASE}/inference`, { key: null, json: { prompt: "hi" } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as NodeError).error.code).toBe("UNAUTHORIZED");
    const wrong = await c.send(`${BASE}/inference`, { key: "csk_nobody_0000000000000000", json: { prompt: "hi" } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as NodeError).error.code).toBe("UNAUTHORIZED");
  });

  it("a bad field is 400 INVALID_REQUEST naming it, and nothing runs", async () => {
    const c = await nodeCustomer();
    const before = await metrics();
    for (const [field, body] of [
      ["temperature", { prompt: "hi", temperature: 5 }],
      ["top_k", { prompt: "hi", top_k: 0 }],
      ["prompt", { max_tokens: 3 }],
      ["colour", { prompt: "hi", colour: "red" }],
    ] as const) {
      const res = await c.send(`${BASE}/inference`, { json: body });
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as NodeError;
      expect(error.code).toBe("INVALID_REQUEST");
      expect(error.details?.["field"]).toBe(field);
    }
    expect((await metrics()).inference.requests_total).toBe(before.inference.requests_total);
    const { usage } = (await (await c.send("/v1/usage")).json()) as { usage: unknown[] };
    expect(usage).toEqual([]);
  });

  it("INSUFFICIENT_BALANCE with required and available", async () => {
    const c = await nodeCustomer({ balance: 10 });
    const res = await c.send(`${BASE}/inference`, { json: { prompt: "Explain everything at length.", max_tokens: 500 } });
    expect(res.status).toBe(402);
    const { error } = (await res.json()) as NodeError;
    expect(error.code).toBe("INSUFFICIENT_BALANCE");
    expect(error.details).toMatchObject({ available: 0.00001, currency: "USD" });
    expect(error.details?.["required"]).toBeGreaterThan(0.00001);
  });

  it("RATE_LIMITED with retry_after and Retry-After", async () => {
    const c = await nodeCustomer({ key: { requests_per_minute: 1 } });
    expect((await c.send(`${BASE}/inference`, { json: { prompt: "one", max_tokens: 2 } })).status).toBe(200);
    const res = await c.send(`${BASE}/inference`, { json: { prompt: "two", max_tokens: 2 } });
    expect(res.status).toBe(429);
    const { error } = (await res.json()) as NodeError;
    expect(error.code).toBe("RATE_LIMITED");
    expect(error.details?.["retry_after"]).toBeGreaterThan(0);
    expect(res.headers.get("retry-after")).toBe(String(error.details?.["retry_after"]));
  });

  it("the router's other codes, upper-cased: no miner for the session is NO_MINERS_AVAILABLE", async () => {
    const c = await nodeCustomer({ miners: [] });
    const res = await c.send(`${BASE}/inference`, { json: { prompt: "anyone?" } });
    expect(res.status).toBe(503);
    expect(((await res.json()) as NodeError).error.code).toBe("NO_MINERS_AVAILABLE");
  });

  it("an unknown node path is NOT_FOUND in the node's shape", async () => {
    const res = await call(`${BASE}/nowhere`, { key: null });
    expect(res.status).toBe(404);
    expect(((await res.json()) as NodeError).error.code).toBe("NOT_FOUND");
  });
});
