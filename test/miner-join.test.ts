import { afterEach, describe, expect, it, vi } from "vitest";
import type { MinerPublic } from "../domain/schemas/miner";
import { call, createSession, minersFor } from "./helpers";
import { establish, type Joined, joinBody, joinOk, leaveBody, node, post } from "./adversarial/open-network/join";

/**
 * Miners joining by themselves: a node signs a join with its key, the router
 * probes it and admits it for a lease, with no admin call; it renews by
 * joining again and leaves with a signed leave. The fleet's dev miners play
 * the nodes, each under a fresh key.
 */
const listing = async () => ((await (await call("/api/v1/miners")).json()) as { miners: MinerPublic[] }).miners;
const ask = (sessionId: number) => call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "hello there", timeout: 10 } });
/** A completion on a fresh session (a cold pool reads the registry: what it selects now). */
async function completeFresh(model: string) {
  const res = await ask(await createSession({ model }));
  return { status: res.status, body: (await res.json()) as { miners?: { miner: string }[]; error?: { code: string } } };
}

afterEach(() => vi.useRealTimers());

describe("a miner joining by itself", () => {
  it("joins with no admin call on probation, shows in the listing as joined, and serves tasks once established", async () => {
    const n = node("fastA");
    const joined = await joinOk(n);
    expect(joined).toMatchObject({ evm_address: n.address.toLowerCase(), lease_seconds: 90, probation: { on_probation: true, agreeing_results_needed: 5 } });
    const leaseMs = Date.parse(joined.lease_expires_at) - Date.now();
    expect(leaseMs).toBeGreaterThan(80_000);
    expect(leaseMs).toBeLessThanOrEqual(90_000);
    const listed = (await listing()).find((m) => m.id === joined.id);
    expect(listed).toMatchObject({
      source: "joined",
      protocol: "openai",
      evm_address: n.address.toLowerCase(),
      url: n.url,
      models: [n.model],
      lease_expires_at: joined.lease_expires_at,
      healthy: true,
      benched: false,
      probation: { on_probation: true, agreeing_results_needed: 5 },
    });
    // On probation it never serves a task alone: a redundancy-1 session of its model has no miner to take.
    const alone = await completeFresh(n.model);
    expect(alone.status).toBe(503);
    expect(alone.body.error?.code).toBe("no_miners_available");
    await establish(joined.id);
    const { status, body } = await completeFresh(n.model);
    expect(status).toBe(200);
    expect(body.miners?.map((m) => m.miner)).toEqual([joined.id]);
  });

  it("lists an admin-registered miner as admin, with no lease", async () => {
    const { ids } = await minersFor(["fastB"]);
    expect((await listing()).find((m) => m.id === ids.fastB)).toMatchObject({ source: "admin", lease_expires_at: null });
  });

  it("renews: a second join (fresh nonce) keeps the id and extends the lease", async () => {
    const n = node("fastB");
    const first = await joinOk(n);
    const renewed = await joinOk(n, { status: 200 });
    expect(renewed.id).toBe(first.id);
    expect(Date.parse(renewed.lease_expires_at)).toBeGreaterThanOrEqual(Date.parse(first.lease_expires_at));
    expect((await listing()).filter((m) => m.evm_address === n.address.toLowerCase())).toHaveLength(1);
  });

  it("a signing node's results verify against the address it joined with (signatures: require), on probation beside established miners", async () => {
    const n = node("signedA");
    const joined = await joinOk(n);
    // Two established signing miners of the same model: at redundancy 3 the probationary node takes the third seat.
    const { ids } = await minersFor(["signedB", "signedC"], { model: n.model, registered: ["signedB", "signedC"] });
    const sessionId = await createSession({ model: n.model, signatures: "require", redundancy: 3 });
    const res = await ask(sessionId);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { miners: { miner: string; signature?: string | null; probation?: boolean; agreed?: boolean }[] };
    expect(body.miners).toHaveLength(3);
    expect(body.miners.find((m) => m.miner === joined.id)).toMatchObject({ signature: "valid", probation: true, agreed: true });
    // Its answer counted beside an established one's (the slowest may still be pending when two agree).
    const established = body.miners.filter((m) => m.miner !== joined.id);
    expect(established.map((m) => m.miner).sort()).toEqual([ids.signedB, ids.signedC].sort());
    expect(established.some((m) => m.signature === "valid" && m.agreed === true)).toBe(true);
  });

  it("a NeuroShard node joins (probed on /api/v1/health) and serves tasks", async () => {
    const n = node("nsA");
    const joined = await joinOk(n);
    expect((await listing()).find((m) => m.id === joined.id)).toMatchObject({ source: "joined", protocol: "neuroshard" });
    await establish(joined.id);
    expect((await completeFresh(n.model)).status).toBe(200);
  });

  it("is not selected once its lease lapsed, and is again when it renews", async () => {
    const n = node("fastC");
    const joined = await joinOk(n, { vars: { MINER_LEASE_SECONDS: "30" } });
    await establish(joined.id);
    expect((await completeFresh(n.model)).status).toBe(200);
    // The registry's clock moves past the lease (Date is faked across the isolate, the registry's too).
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.parse(joined.lease_expires_at) + 1);
    const lapsed = await completeFresh(n.model);
    expect(lapsed.status, JSON.stringify(lapsed.body)).not.toBe(200);
    expect(lapsed.body.miners ?? []).toEqual([]);
    expect((await listing()).find((m) => m.id === joined.id)).toMatchObject({ source: "joined", lease_expires_at: joined.lease_expires_at });
    // The node renews (signed at the router's time): the same miner, selected again.
    const renewed = await joinOk(n, { status: 200 });
    expect(renewed.id).toBe(joined.id);
    const back = await completeFresh(n.model);
    expect(back.status).toBe(200);
    expect(back.body.miners?.map((m) => m.miner)).toEqual([joined.id]);
  });

  it("leaves: its lease ends now and it is no longer selected; it may join again", async () => {
    const n = node("spare");
    const joined = await joinOk(n);
    await establish(joined.id);
    const res = await post("/api/v1/miners/leave", await leaveBody(n));
    expect(res.status).toBe(200);
    const left = (await res.json()) as Joined;
    expect(left.id).toBe(joined.id);
    expect(Date.parse(left.lease_expires_at)).toBeLessThanOrEqual(Date.now());
    const after = await completeFresh(n.model);
    expect(after.status).not.toBe(200);
    expect((await joinOk(n, { status: 200 })).id).toBe(joined.id);
    expect((await completeFresh(n.model)).status).toBe(200);
  });

  it("a leave for an address no joined miner holds is 404", async () => {
    const n = node("fastA");
    const res = await post("/api/v1/miners/leave", await leaveBody(n));
    expect(res.status).toBe(404);
  });

  it("documents the join and leave routes as public (no bearer) with their schemas", async () => {
    const doc = (await (await call("/openapi.json")).json()) as { paths: Record<string, Record<string, { security?: unknown }>>; components: { schemas: Record<string, unknown> } };
    expect(doc.paths["/api/v1/miners/join"]!.post!.security).toBeUndefined();
    expect(doc.paths["/api/v1/miners/leave"]).toHaveProperty("post");
    expect(doc.paths["/api/v1/admin/miners/bans"]).toHaveProperty("post");
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(["MinerJoinRequest", "MinerLeaveRequest", "MinerJoined"]));
  });

  it("refuses a body missing a field, naming it", async () => {
    const body = await joinBody(node("fastA"));
    const { max_concurrency: _, ...without } = body;
    const res = await post("/api/v1/miners/join", without);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { details: { issues: { field: string }[] } } }).error.details.issues.map((i) => i.field)).toContain("max_concurrency");
  });
});
