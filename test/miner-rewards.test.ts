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

describe("wallet routes", () => {
  const base = "/neuroshard/api/v1/wallet";

  async function keyFor(customerId: string): Promise<string> {
    const res = await admin(`/v1/admin/customers/${customerId}/keys`, "POST", {});
    expect(res.status).toBe(201);
    return ((await res.json()) as { key: string }).key;
  }

  it("answers 401 without a customer key", async () => {
    for (const path of ["/balance", "/transactions"]) {
      const res = await call(`${base}${path}`, { key: null });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
    }
  });

  it("shows a miner operator its balance and its rewards with their proofs, and usage charges, newest first", async () => {
    const { sessionId, ids, accounts } = await rewardedSession();
    const first = await complete(sessionId, { prompt: "wallet one" });
    const second = await complete(sessionId, { prompt: "wallet two" });
    await flushReports(sessionId);
    // A usage charge, as the gateway's billing records it.
    await ledger(accounts.fastA!).recordUsage({
      request_id: uniq("req"),
      key_id: "key_none",
      model: "default",
      router_pool: "local",
      session_id: null,
      task_id: null,
      prompt_tokens: 10,
      completion_tokens: 10,
      latency_ms: 5,
      status: "ok",
      error_code: null,
      cost_micros: 30,
    });
    const key = await keyFor(accounts.fastA!);

    const balance = await call(`${base}/balance`, { key });
    expect(balance.status).toBe(200);
    const expected = (1000 + 2 * REWARD - 30) / 1_000_000;
    expect(await balance.json()).toEqual({ address: accounts.fastA, balances: { available: expected, staked: 0, pending: 0, total: expected }, staking: null });

    const all = await call(`${base}/transactions?limit=10&offset=0`, { key });
    expect(all.status).toBe(200);
    const body = (await all.json()) as {
      transactions: { id: string; type: string; amount: number; timestamp: string; details: Record<string, unknown> }[];
      total: number;
      limit: number;
      offset: number;
    };
    expect(body).toMatchObject({ total: 4, limit: 10, offset: 0 });
    expect(body.transactions.map((t) => [t.type, t.amount])).toEqual([
      ["usage", -30 / 1_000_000],
      ["reward", REWARD / 1_000_000],
      ["reward", REWARD / 1_000_000],
      // The account's opening balance.
      ["credit", 1000 / 1_000_000],
    ]);
    const [, newer, older] = body.transactions;
    expect(newer?.details).toEqual({ proof_id: `${sessionId}:${second.task_id}`, session_id: sessionId, task_id: second.task_id, miner_id: ids.fastA });
    expect(older?.details).toMatchObject({ proof_id: `${sessionId}:${first.task_id}`, task_id: first.task_id });
    expect(new Set(body.transactions.map((t) => t.id)).size).toBe(4);

    const page = (await (await call(`${base}/transactions?limit=1&offset=1`, { key })).json()) as typeof body;
    expect(page).toMatchObject({ total: 4, limit: 1, offset: 1 });
    expect(page.transactions.map((t) => t.id)).toEqual([newer?.id]);

    // The disagreeing miner's operator sees nothing earned: its opening balance only.
    const wrongKey = await keyFor(accounts.wrong!);
    const wrong = (await (await call(`${base}/transactions`, { key: wrongKey })).json()) as typeof body;
    expect(wrong).toMatchObject({ total: 1, limit: 10, offset: 0 });
    expect(wrong.transactions.map((t) => t.type)).toEqual(["credit"]);
  });

  it("names the field of a bad query", async () => {
    const key = await keyFor(await customer());
    for (const [query, field] of [
      ["limit=0", "limit"],
      ["limit=abc", "limit"],
      ["offset=-1", "offset"],
    ]) {
      const res = await call(`${base}/transactions?${query}`, { key });
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: { details: { field: string } } }).error.details.field).toBe(field);
    }
  });
});
