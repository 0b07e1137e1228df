import { describe, expect, it } from "vitest";
import { admin, call, fetchWorker, fleet, uniq } from "./helpers";

type Health = { healthy: boolean; checks: Record<string, string> };
const health = async () => {
  const res = await call("/neuroshard/api/v1/health", { key: null });
  return { status: res.status, body: (await res.json()) as Health };
};

// One file of its own: what it asserts is about every miner of the deployment.
describe("node health", () => {
  it("is unhealthy with no miner, and when every miner is benched; healthy again once one passes its check", async () => {
    const none = await health();
    expect(none).toEqual({ status: 503, body: { healthy: false, checks: { peers: "no miners registered", storage: "ok", chain_index: "ok" } } });

    const id = uniq("ns-health");
    expect((await admin("/api/v1/admin/miners", "POST", { id, url: fleet().nsA.url, credential: fleet().nsA.token, protocol: "neuroshard", models: [uniq("m")] })).status).toBe(
      201,
    );
    expect((await health()).body).toEqual({ healthy: true, checks: { peers: "ok", storage: "ok", chain_index: "ok" } });

    // A wrong credential: the node refuses the health check, and the miner is benched.
    expect((await admin(`/api/v1/admin/miners/${id}`, "PATCH", { credential: "not-the-token" })).status).toBe(200);
    await admin("/api/v1/admin/miners/health-check", "POST");
    expect(await health()).toEqual({ status: 503, body: { healthy: false, checks: { peers: "every miner benched (0 of 1 healthy)", storage: "ok", chain_index: "ok" } } });
    expect(((await (await call("/neuroshard/api/v1/status", { key: null })).json()) as { status: string }).status).toBe("degraded");

    expect((await admin(`/api/v1/admin/miners/${id}`, "PATCH", { credential: fleet().nsA.token })).status).toBe(200);
    await admin("/api/v1/admin/miners/health-check", "POST");
    expect((await health()).status).toBe(200);
  });

  it("checks the chain index where a chain is configured: a misconfigured chain makes the node unhealthy, none leaves the check out", async () => {
    const healthWith = async (vars: Record<string, string>) => {
      const { response } = await fetchWorker(new Request("http://router.test/neuroshard/api/v1/health"), vars);
      return { status: response.status, body: (await response.json()) as Health };
    };
    const bad = await healthWith({ CHAIN_ID: "abc" });
    expect(bad.status).toBe(503);
    expect(bad.body.checks["chain_index"]).toMatch(/^misconfigured: CHAIN_ID/);
    const none = await healthWith({ CHAIN_RPC_URL: "" });
    expect(Object.keys(none.body.checks)).not.toContain("chain_index");
  });
});

type Global = {
  total_nodes_training: number;
  hash_agreement_rate: number | null;
  loss_trend: string;
  global_avg_loss: number | null;
  data_shards_covered: number[];
  reason: string;
  local: null;
};
type Verdict = { is_working: boolean; reason: string; action?: string; metrics?: { hash_agreement: string; loss_trend: string; global_loss: number } };
const training = async () => ({
  global: (await (await call("/neuroshard/api/training/global", { key: null })).json()) as Global,
  verify: (await (await call("/neuroshard/api/training/verify", { key: null })).json()) as Verdict,
});
const register = async (name: "nsTrainA" | "nsTrainB" | "nsDiverged") => {
  const m = fleet()[name];
  expect((await admin("/api/v1/admin/miners", "POST", { id: uniq(name), url: m.url, credential: m.token, protocol: "neuroshard", models: [uniq("m")] })).status).toBe(201);
};

// After the health test: its NeuroShard miner reports no training.
describe("network training", () => {
  it("says plainly that nothing trains, then aggregates the training miners' own reports, and sees divergence", async () => {
    const none = await training();
    expect(none.global).toMatchObject({ total_nodes_training: 0, hash_agreement_rate: null, global_avg_loss: null, loss_trend: "unknown", local: null });
    expect(none.global.reason).toBe("None of the 1 NeuroShard miner(s) reports training.");
    expect(none.verify).toMatchObject({ is_working: false, reason: none.global.reason });

    await register("nsTrainA");
    await register("nsTrainB");
    // Registered but not yet read: the health check reads each node's report.
    expect((await training()).global.total_nodes_training).toBe(0);
    await admin("/api/v1/admin/miners/health-check", "POST");
    const two = await training();
    expect(two.global).toMatchObject({ total_nodes_training: 2, hash_agreement_rate: 1, loss_trend: "improving", data_shards_covered: [0, 1, 2] });
    expect(two.global.global_avg_loss).toBeCloseTo(0.13, 10);
    expect(two.verify).toEqual({
      is_working: true,
      reason: "Training verified! Loss is decreasing and network is converging.",
      metrics: { loss_trend: "improving", hash_agreement: "100.0%", global_loss: two.global.global_avg_loss },
    });

    await register("nsDiverged");
    await admin("/api/v1/admin/miners/health-check", "POST");
    const diverged = await training();
    expect(diverged.global).toMatchObject({ total_nodes_training: 3, hash_agreement_rate: 0.5, loss_trend: "mixed" });
    expect(diverged.verify).toEqual({
      is_working: false,
      reason: "Network NOT converging! Only 50.0% hash agreement.",
      action: "Nodes have diverged. Check gradient sync is working.",
    });

    const network = (await (await call("/neuroshard/api/v1/network", { key: null })).json()) as {
      nodes: Record<string, number>;
      architecture: { layers: number | null };
      training: { nodes_training: number; global_step: number | null };
    };
    expect(network.nodes).toEqual({ total: 4, drivers: 0, workers: 4, validators: 0, full_model: 0, unreported: 0 });
    // The model's layer count as the nodes report it (the seed's 32), not the highest layer held + 1 (5).
    expect(network.architecture.layers).toBe(32);
    expect(network.training).toMatchObject({ nodes_training: 3, global_step: 1500 });
  });
});
