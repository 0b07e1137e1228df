import { describe, expect, it } from "vitest";
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
