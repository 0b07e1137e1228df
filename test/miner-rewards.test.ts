import { env } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { admin, call, createSession, minersFor, uniq } from "./helpers";
import { flushReports } from "./report-flush";

/** The default MINER_REWARD_MICROS (workers/config/config.ts). */
const REWARD = 100;

const ledger = (customerId: string) => env.LEDGERS.get(env.LEDGERS.idFromName(`customer:${customerId}`));
const sessionStub = (sessionId: number) => env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}`));

async function customer(): Promise<string> {
  const id = uniq("payout");
  const res = await admin("/v1/admin/customers", "POST", { id, name: id, balance_micros: 1000 });
  expect(res.status).toBe(201);
  return id;
}

/** What a payout account's Ledger holds: its balance and its reward rows. */
function account(customerId: string) {
  return runInDurableObject(ledger(customerId), (_instance, state) => ({
    balance: state.storage.sql.exec<{ b: number }>("SELECT balance_micros AS b FROM customer").one().b,
    rewards: state.storage.sql
      .exec<{ session_id: number; task_id: number; miner_id: string; amount_micros: number }>("SELECT session_id, task_id, miner_id, amount_micros FROM rewards ORDER BY id")
      .toArray()
      .map((r) => ({ ...r })),
  }));
}

const pendingRewards = (sessionId: number) =>
  runInDurableObject(sessionStub(sessionId), (_instance, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending_rewards").one().n);

/** Two honest miners and one that always answers wrong, each paying out to its own account, in a session of redundancy 3. */
async function rewardedSession() {
  const { model, ids } = await minersFor(["fastA", "fastB", "wrong"]);
  const accounts: Record<string, string> = {};
  for (const name of ["fastA", "fastB", "wrong"] as const) {
    accounts[name] = await customer();
    const res = await admin(`/api/v1/admin/miners/${ids[name]}`, "PATCH", { payout_account: accounts[name] });
    expect(res.status).toBe(200);
  }
  const sessionId = await createSession({ model, redundancy: 3 });
  return { sessionId, ids, accounts };
}

async function complete(sessionId: number, body: Record<string, unknown>) {
  const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: body });
  expect(res.status).toBe(200);
  return (await res.json()) as { task_id: number };
}

describe("miner rewards", () => {
  beforeEach(() => {
    // A day ahead, frozen: the session's alarm cannot fire on its own; the test runs it.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 24 * 60 * 60 * 1000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("credits each agreeing miner once per committed task, after the answer, and the disagreeing one nothing", async () => {
    const { sessionId, ids, accounts } = await rewardedSession();
    const first = await complete(sessionId, { prompt: "reward me", request_id: "rw-1" });
    // Queued with the outcome, not credited on the client's wait.
    expect(await pendingRewards(sessionId)).toBe(2);
    expect((await account(accounts.fastA!)).rewards).toEqual([]);

    expect(await flushReports(sessionId)).toBe(true);
    expect(await pendingRewards(sessionId)).toBe(0);
    for (const name of ["fastA", "fastB"]) {
      expect(await account(accounts[name]!)).toEqual({
        balance: 1000 + REWARD,
        rewards: [{ session_id: sessionId, task_id: first.task_id, miner_id: ids[name], amount_micros: REWARD }],
      });
    }
    expect(await account(accounts.wrong!)).toEqual({ balance: 1000, rewards: [] });

    // A replayed request runs nothing new; the alarm run again (and after a restart) credits nothing more.
    expect((await complete(sessionId, { prompt: "reward me", request_id: "rw-1" })).task_id).toBe(first.task_id);
    await flushReports(sessionId);
    await evictDurableObject(sessionStub(sessionId));
    await flushReports(sessionId);
    for (const name of ["fastA", "fastB"]) expect((await account(accounts[name]!)).balance).toBe(1000 + REWARD);

    // N tasks: N rewards each.
    const second = await complete(sessionId, { prompt: "again", request_id: "rw-2" });
    const third = await complete(sessionId, { prompt: "and again" });
    await flushReports(sessionId);
    const a = await account(accounts.fastA!);
    expect(a.balance).toBe(1000 + 3 * REWARD);
    expect(a.rewards.map((r) => r.task_id)).toEqual([first.task_id, second.task_id, third.task_id]);
    expect((await account(accounts.wrong!)).balance).toBe(1000);
  });

  it("credits a reward the Ledger already took once, when the session sends it again", async () => {
    const { sessionId, accounts } = await rewardedSession();
    await complete(sessionId, { prompt: "lost answer" });
    const queued = await runInDurableObject(sessionStub(sessionId), (_instance, state) =>
      state.storage.sql.exec<{ task_id: number; miner_id: string; amount_micros: number }>("SELECT task_id, miner_id, amount_micros FROM pending_rewards").toArray(),
    );
    const rewards = queued.map((r) => ({ sessionId, taskId: r.task_id, minerId: r.miner_id, amountMicros: r.amount_micros }));
    const fastA = rewards.filter((r) => r.minerId.startsWith("fastA"));
    // The Ledger took the rewards but the session never heard (its answer lost): the flush sends them again.
    expect(await ledger(accounts.fastA!).creditRewards(fastA)).toEqual({ credited: 1 });
    await flushReports(sessionId);
    expect((await account(accounts.fastA!)).balance).toBe(1000 + REWARD);
    expect((await account(accounts.fastB!)).balance).toBe(1000 + REWARD);
  });
});
