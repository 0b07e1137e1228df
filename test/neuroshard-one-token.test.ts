import { privateKeyToAccount } from "viem/accounts";
import { afterEach, describe, expect, it, vi } from "vitest";
import { admin, call, createSession, fetchWorker, fleet, minersFor, uniq } from "./helpers";
import { TEST_ROUTER_KEY } from "./keys";
import { flushReports, freezeSessionAlarms } from "./report-flush";

/**
 * The NeuroShard node API as the seed's client uses it: one token for every
 * call. A customer key reads the network views (peers and layers without the
 * miners' addresses, the proofs of its own tasks); a router key reads them
 * whole. And the figures the node reports are filled from what the router
 * holds: layers as the miners report them, rewards as the tasks paid them.
 */

const BASE = "/neuroshard/api/v1";

type NodeError = { error: { code: string; message: string; details?: Record<string, unknown> } };
type Peer = { id: string; address: string | null; role: string; layers: number[] };
type Proof = { id: string; session_id: number; task_id: number; reward: number | null; verified: boolean };
type Proofs = { proofs: Proof[]; stats: { total_submitted: number; total_verified: number; total_reward: number } };
type Rewards = { earned_today: number; earned_total: number; pending: number };

/** A gateway customer with one key, and NEUROSHARD_MODEL's alias ("default") on a session of its own over `miners`. */
async function nodeCustomer(miners: Parameters<typeof minersFor>[0] = ["fastA"]) {
  const id = uniq("tok-cust")
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-");
  expect((await admin("/v1/admin/customers", "POST", { id, name: "One-token client", billing: "prepaid", balance_micros: 10_000_000 })).status).toBe(201);
  const { key } = (await (await admin(`/v1/admin/customers/${id}/keys`, "POST", {})).json()) as { key: string };
  const { model } = await minersFor(miners);
  const sessionId = await createSession({ model, redundancy: 1, commit_policy: "all" });
  const vars = { GATEWAY_MODELS: JSON.stringify({ default: { pool: "local", session_id: sessionId } }) };
  const send = async (path: string, json?: unknown) => {
    const headers: Record<string, string> = { authorization: `Bearer ${key}`, ...(json === undefined ? {} : { "content-type": "application/json" }) };
    const { response, settled } = await fetchWorker(
      new Request(`http://node.test${path}`, { method: json === undefined ? "GET" : "POST", headers, ...(json === undefined ? {} : { body: JSON.stringify(json) }) }),
      vars,
    );
    await settled();
    return response;
  };
  return { key, sessionId, send };
}

// First in its file, before any status call: the isolate started when its module loaded, not when status was first asked.
describe("uptime", () => {
  it("counts from the isolate's start, not from the first status call", async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const body = (await (await call(`${BASE}/status`, { key: null })).json()) as { uptime_seconds: number };
    expect(body.uptime_seconds).toBeGreaterThanOrEqual(1);
  });
});

describe("one token", () => {
  it("a customer key reads peers and layers, without where any miner listens; a router key sees the hosts", async () => {
    const { ids } = await minersFor(["nsA", "nsB", "fastB"]);
    await admin("/api/v1/admin/miners/health-check", "POST");
    const customer = await nodeCustomer();

    const peersRes = await call(`${BASE}/peers`, { key: customer.key });
    expect(peersRes.status).toBe(200);
    const raw = await peersRes.text();
    for (const m of Object.values(fleet())) {
      expect(raw).not.toContain(m.token);
      expect(raw).not.toContain(new URL(m.url).host);
    }
    const { peers } = JSON.parse(raw) as { peers: Peer[] };
    expect(peers.every((p) => p.address === null)).toBe(true);
    expect(peers.find((p) => p.id === ids.nsB)).toMatchObject({ role: "validator", layers: [4, 5, 6, 7] });

    const operator = (await (await call(`${BASE}/peers`, { key: TEST_ROUTER_KEY })).json()) as { peers: Peer[] };
    expect(operator.peers.find((p) => p.id === ids.nsB)?.address).toBe(new URL(fleet().nsB.url).host);

    const layersRes = await call(`${BASE}/layers`, { key: customer.key });
    expect(layersRes.status).toBe(200);
    const layers = await layersRes.text();
    for (const m of Object.values(fleet())) expect(layers).not.toContain(new URL(m.url).host);
    expect((JSON.parse(layers) as { layers: { index: number; holders: string[] }[] }).layers.find((l) => l.index === 5)?.holders).toContain(ids.nsB);
  });

  it("refuses no key and a key that is neither a router's nor a customer's, in the node's shape", async () => {
    for (const path of ["peers", "layers", "proofs"]) {
      for (const key of [null, "csk_nobody_0123456789abcdefXYZ", "not-a-key"]) {
        const res = await call(`${BASE}/${path}`, { key });
        expect(res.status).toBe(401);
        expect(((await res.json()) as NodeError).error.code).toBe("UNAUTHORIZED");
      }
    }
  });

  it("a customer key reads the proofs of its own tasks only; a router key reads every task's", async () => {
    const mine = await nodeCustomer();
    const other = await nodeCustomer();
    const inference = await mine.send(`${BASE}/inference`, { prompt: `my proof ${uniq("p")}`, max_tokens: 5 });
    expect(inference.status).toBe(200);
    // A router key's task in the same session: not the customer's.
    const routed = await call(`/api/v1/completions/${mine.sessionId}`, { method: "POST", json: { prompt: `router's ${uniq("r")}`, max_tokens: 5 } });
    expect(routed.status).toBe(200);
    const routedTask = ((await routed.json()) as { task_id: number }).task_id;

    const own = (await (await mine.send(`${BASE}/proofs?limit=100`)).json()) as Proofs;
    expect(own.proofs).toHaveLength(1);
    expect(own.proofs[0]).toMatchObject({ session_id: mine.sessionId, verified: true });
    expect(own.proofs[0]!.task_id).not.toBe(routedTask);
    expect(own.stats).toMatchObject({ total_submitted: 1, total_verified: 1 });

    const none = (await (await other.send(`${BASE}/proofs?limit=100`)).json()) as Proofs;
    expect(none).toEqual({ proofs: [], stats: { total_submitted: 0, total_verified: 0, total_reward: 0 } });

    const all = (await (await call(`${BASE}/proofs?limit=100`)).json()) as Proofs;
    const inSession = all.proofs.filter((p) => p.session_id === mine.sessionId).map((p) => p.task_id);
    expect(inSession.sort()).toEqual([own.proofs[0]!.task_id, routedTask].sort());
    expect(all.stats.total_submitted).toBeGreaterThanOrEqual(2);
  });
});

describe("layers and network", () => {
  it("layers carry the type and memory the miners report and the model's layer count, which /network's architecture repeats", async () => {
    await minersFor(["nsA", "nsB"]);
    await admin("/api/v1/admin/miners/health-check", "POST");
    const body = (await (await call(`${BASE}/layers`)).json()) as { layers: { index: number; type: string | null; memory_mb: number | null }[]; total_layers: number | null };
    // The dev nodes report the seed's model: 32 transformer layers of 512 MB.
    expect(body.layers.find((l) => l.index === 0)).toMatchObject({ type: "transformer", memory_mb: 512 });
    expect(body.layers.find((l) => l.index === 7)).toMatchObject({ type: "transformer", memory_mb: 512 });
    expect(body.total_layers).toBe(32);
    const network = (await (await call(`${BASE}/network`, { key: null })).json()) as { architecture: { layers: number | null } };
    expect(network.architecture.layers).toBe(body.total_layers);
  });
});

describe("rewards", () => {
  freezeSessionAlarms();

  it("a proof's reward is what its task paid its miners, the id the rewards name; metrics add them up", async () => {
    const { model, ids } = await minersFor(["fastA", "fastB"]);
    const keys: Record<string, string> = {};
    for (const name of ["fastA", "fastB"] as const) {
      const account = uniq("payout");
      expect((await admin("/v1/admin/customers", "POST", { id: account, name: account, balance_micros: 0 })).status).toBe(201);
      expect((await admin(`/api/v1/admin/miners/${ids[name]}`, "PATCH", { payout_account: account })).status).toBe(200);
      keys[name] = ((await (await admin(`/v1/admin/customers/${account}/keys`, "POST", {})).json()) as { key: string }).key;
    }
    const sessionId = await createSession({ model, redundancy: 2 });
    const metrics = async () => ((await (await call(`${BASE}/metrics`, { key: null })).json()) as { rewards: Rewards }).rewards;
    const before = await metrics();

    const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: `paid ${uniq("r")}`, max_tokens: 8 } });
    expect(res.status).toBe(200);
    const taskId = ((await res.json()) as { task_id: number }).task_id;
    const proof = ((await (await call(`${BASE}/proofs?limit=100`)).json()) as Proofs).proofs.find((p) => p.session_id === sessionId && p.task_id === taskId)!;
    expect(proof.id).toBe(`proof_${sessionId}_${taskId}`);
    expect(proof.reward).toBeGreaterThan(0);

    // Recorded, not yet taken by the payout accounts' Ledgers: pending.
    const queued = await metrics();
    expect(queued.earned_total - before.earned_total).toBeCloseTo(proof.reward!, 6);
    expect(queued.earned_today - before.earned_today).toBeCloseTo(proof.reward!, 6);
    expect(queued.pending - before.pending).toBeCloseTo(proof.reward!, 6);

    expect(await flushReports(sessionId)).toBe(true);
    const delivered = await metrics();
    expect(delivered.pending).toBeCloseTo(before.pending, 6);
    expect(delivered.earned_total - before.earned_total).toBeCloseTo(proof.reward!, 6);

    // The miners' wallets name the same proof, and their rewards add up to its reward.
    let paid = 0;
    for (const key of Object.values(keys)) {
      const { transactions } = (await (await call(`${BASE}/wallet/transactions`, { key })).json()) as {
        transactions: { type: string; amount: number; details: { proof_id: string } }[];
      };
      const rewards = transactions.filter((t) => t.type === "reward");
      expect(rewards.map((t) => t.details.proof_id)).toEqual([proof.id]);
      paid += rewards[0]!.amount;
    }
    expect(paid).toBeCloseTo(proof.reward!, 6);
  });
});

/**
 * The seed's example responses (shared/seeds/003), as written: each answer
 * must carry every field they show, nested alike (a figure the router does
 * not measure may be null, as its schema documents).
 */
const SEED = {
  status: {
    node_id: "",
    version: "",
    uptime_seconds: 0,
    status: "",
    role: "",
    layers: [0],
    peer_count: 0,
    training: { enabled: true, epoch: 0, step: 0, loss: 0 },
    resources: { gpu_memory_used: 0, gpu_memory_total: 0, cpu_percent: 0, ram_used: 0 },
  },
  metrics: {
    timestamp: "",
    inference: { requests_total: 0, requests_per_minute: 0, avg_latency_ms: 0, p99_latency_ms: 0, tokens_generated: 0 },
    training: { steps_total: 0, steps_per_hour: 0, gradients_submitted: 0, gradients_accepted: 0 },
    network: { bytes_sent: 0, bytes_received: 0, active_connections: 0, rpc_calls: 0 },
    rewards: { earned_today: 0, earned_total: 0, pending: 0 },
  },
  health: { healthy: true, checks: {} },
  inference: {
    id: "",
    text: "",
    tokens_generated: 0,
    finish_reason: "",
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    cost: { amount: 0, currency: "" },
    timing: { queue_ms: 0, inference_ms: 0, total_ms: 0 },
  },
  balance: { address: "", balances: { available: 0, staked: 0, pending: 0, total: 0 }, staking: { amount: 0, duration_days: 0, start_date: "", unlock_date: "", multiplier: 0 } },
  send: { transaction_id: "", from: "", to: "", amount: 0, fee: 0, memo: "", status: "", timestamp: "" },
  transactions: { transactions: [{ id: "", type: "", amount: 0, timestamp: "" }], total: 0, limit: 0, offset: 0 },
  stake: { success: true, stake: { amount: 0, duration_days: 0, start_date: "", unlock_date: "", multiplier: 0 }, new_balance: { available: 0, staked: 0 } },
  unstake: { success: true, unstake: { amount: 0, cooldown_days: 0, available_date: "" } },
  peers: { peers: [{ id: "", address: "", role: "", layers: [0], latency_ms: 0, connected_since: "" }], total: 0 },
  layers: { layers: [{ index: 0, type: "", memory_mb: 0, status: "" }], total_layers: 0, my_layer_count: 0 },
  network: {
    nodes: { total: 0, drivers: 0, workers: 0, validators: 0 },
    architecture: { layers: 0, hidden_dim: 0, parameters: "" },
    capacity: { total_memory_gb: 0, used_memory_gb: 0 },
    training: { epoch: 0, global_step: 0, loss: 0 },
  },
  config: {
    node_id: "",
    port: 0,
    grpc_port: 0,
    tracker_url: "",
    training: { enabled: true, batch_size: 0, learning_rate: 0, diloco_steps: 0 },
    resources: { max_memory_gb: 0, cpu_threads: 0 },
  },
  trainingGlobal: {
    global_avg_loss: 0,
    global_min_loss: 0,
    hash_agreement_rate: 0,
    total_nodes_training: 0,
    successful_syncs: 0,
    failed_syncs: 0,
    sync_success_rate: 0,
    global_steps: 0,
    global_tokens: 0,
    data_shards_covered: [],
    is_converging: true,
    training_verified: true,
    loss_trend: "",
  },
  trainingVerify: { is_working: true, reason: "" },
  proofs: { proofs: [{ id: "", type: "", layer: 0, timestamp: "", verified: true, reward: 0 }], stats: { total_submitted: 0, total_verified: 0, total_reward: 0 } },
} as const;

/** The paths of the seed example's fields the answer lacks (arrays: their first item, where both have one). */
function missingFields(seed: unknown, actual: unknown, at = ""): string[] {
  if (seed === null || typeof seed !== "object") return [];
  if (Array.isArray(seed)) {
    if (!Array.isArray(actual)) return [at || "(root)"];
    return seed.length && actual.length ? missingFields(seed[0], actual[0], `${at}[0]`) : [];
  }
  if (actual === null || typeof actual !== "object") return actual === null && at ? [] : [at || "(root)"];
  return Object.entries(seed).flatMap(([k, v]) => (k in actual ? missingFields(v, (actual as Record<string, unknown>)[k], at ? `${at}.${k}` : k) : [at ? `${at}.${k}` : k]));
}

describe("every example of the seed, with one customer key", () => {
  afterEach(() => vi.useRealTimers());

  it("answers each route's documented request with its documented shape (base URL changed only)", async () => {
    // The one token: a customer with the seed's balance and a key that may move money.
    const id = uniq("seed-cust")
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, "-");
    expect((await admin("/v1/admin/customers", "POST", { id, name: "Seed client", billing: "prepaid", balance_micros: 22_580_230_000 })).status).toBe(201);
    const { key } = (await (await admin(`/v1/admin/customers/${id}/keys`, "POST", { scopes: ["completions", "wallet:read", "wallet:move"] })).json()) as { key: string };
    // The network behind it: NeuroShard nodes and a miner reached by its address, paying out to another customer.
    const { model, ids, keys } = await minersFor(["nsA", "nsB", "fastA"], { registered: ["fastA"] });
    await admin("/api/v1/admin/miners/health-check", "POST");
    const payee = uniq("seed-payee").toLowerCase();
    expect((await admin("/v1/admin/customers", "POST", { id: payee, name: payee })).status).toBe(201);
    expect((await admin(`/api/v1/admin/miners/${ids.fastA}`, "PATCH", { payout_account: payee })).status).toBe(200);
    const minerAddress = privateKeyToAccount(keys.fastA!).address;
    const sessionId = await createSession({ model, redundancy: 1 });
    const vars = { GATEWAY_MODELS: JSON.stringify({ default: { pool: "local", session_id: sessionId } }) };

    const curl = async (method: string, path: string, json?: unknown) => {
      const headers: Record<string, string> = { authorization: `Bearer ${key}`, ...(json === undefined ? {} : { "content-type": "application/json" }) };
      const { response, settled } = await fetchWorker(
        new Request(`http://localhost:8000/neuroshard${path}`, { method, headers, ...(json === undefined ? {} : { body: JSON.stringify(json) }) }),
        vars,
      );
      const text = await response.text();
      await settled();
      return { status: response.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
    };
    const documented = async (method: string, path: string, seed: unknown, json?: unknown) => {
      const res = await curl(method, path, json);
      expect(res.status, `${method} ${path}: ${res.text}`).toBe(200);
      expect(missingFields(seed, res.json()), `${method} ${path}`).toEqual([]);
      return res.json();
    };

    await documented("GET", "/api/v1/status", SEED.status);
    await documented("GET", "/api/v1/metrics", SEED.metrics);
    await documented("GET", "/api/v1/health", SEED.health);
    const inference = await documented("POST", "/api/v1/inference", SEED.inference, {
      prompt: "Explain quantum computing in simple terms.",
      max_tokens: 200,
      temperature: 0.7,
      top_p: 0.9,
      stream: false,
    });
    expect(inference["finish_reason"]).toBe("stop");

    const streamed = await curl("POST", "/api/v1/inference", { prompt: "Write a poem about AI.", max_tokens: 100, stream: true });
    expect(streamed.status).toBe(200);
    const events = streamed.text
      .split("\n\n")
      .filter((e) => e.startsWith("data: "))
      .map((e) => JSON.parse(e.slice(6)) as Record<string, unknown>);
    expect(events[0]).toEqual({ token: expect.any(String), index: 0 });
    expect(events.at(-1)).toMatchObject({ token: "[DONE]", finish_reason: "stop", usage: expect.any(Object) });

    const balance = await documented("GET", "/api/v1/wallet/balance", { ...SEED.balance, staking: null });
    expect((balance["balances"] as { available: number }).available).toBeGreaterThan(20_000);
    // The seed's `to` is an elided address ("0xabcd...1234"): a registered one, here a miner's.
    const sent = await documented("POST", "/api/v1/wallet/send", SEED.send, { to: minerAddress, amount: 100.0, memo: "Payment for services" });
    expect(sent).toMatchObject({ to: minerAddress, to_account: payee, amount: 100, memo: "Payment for services", status: "confirmed" });
    await documented("GET", "/api/v1/wallet/transactions?limit=10&offset=0", SEED.transactions);
    await documented("POST", "/api/v1/wallet/stake", SEED.stake, { amount: 10000.0, duration_days: 30 });
    await documented("GET", "/api/v1/wallet/balance", SEED.balance);

    await documented("GET", "/api/v1/peers", SEED.peers);
    await documented("GET", "/api/v1/layers", SEED.layers);
    await documented("GET", "/api/v1/network", SEED.network);
    await documented("GET", "/api/v1/config", SEED.config);

    // The seed's PATCH: training is the miners', not this router's: refused, saying so, to this key too.
    const patched = await curl("PATCH", "/api/v1/config", { training: { batch_size: 16 } });
    expect(patched.status).toBe(400);
    expect(patched.json()).toMatchObject({ error: { code: "NOT_CONFIGURABLE", details: { field: "training.batch_size" } } });

    await documented("GET", "/api/training/global", SEED.trainingGlobal);
    await documented("GET", "/api/training/verify", SEED.trainingVerify);
    const proofs = await documented("GET", "/api/v1/proofs?limit=10", SEED.proofs);
    expect((proofs["proofs"] as unknown[]).length).toBeGreaterThan(0);

    // Unstaking is possible once the 30-day lock is over (before it: 409 STAKE_LOCKED, the seed's example has no lock to wait for).
    const locked = await curl("POST", "/api/v1/wallet/unstake", { amount: 5000.0 });
    expect(locked.status).toBe(409);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31 * 24 * 3600 * 1000);
    await documented("POST", "/api/v1/wallet/unstake", SEED.unstake, { amount: 5000.0 });
  });
});
