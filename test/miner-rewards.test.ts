import { env } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { ExactEvmScheme } from "@x402/evm";
import { wrapFetchWithPaymentFromConfig } from "@x402/fetch";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, inject, it } from "vitest";
import { admin, call, createSession, fetchWorker, minersFor, uniq, usageCharge, workerFetch } from "./helpers";
import { flushReports, freezeSessionAlarms } from "./report-flush";
import { TEST_ADMIN_KEY } from "./keys";

/** The defaults (domain/config/config.ts): micros per completion token, and the share of a billed task (basis points). */
const PER_TOKEN = 1;
const SHARE_BPS = 2000;

const ledger = (customerId: string) => env.LEDGERS.get(env.LEDGERS.idFromName(`customer:${customerId}`));
const sessionStub = (sessionId: number) => env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}`));
const registry = () => env.MINERS.get(env.MINERS.idFromName("registry"));

async function customer(): Promise<string> {
  const id = uniq("payout");
  const res = await admin("/v1/admin/customers", "POST", { id, name: id, balance_micros: 1000 });
  expect(res.status).toBe(201);
  return id;
}

type RewardRow = { session_id: number; task_id: number; miner_id: string; amount_micros: number; role: string; slot: number };

/** What a payout account's Ledger holds: its balance (null: no customer) and its reward rows. */
function account(customerId: string) {
  return runInDurableObject(ledger(customerId), (_instance, state) => ({
    balance: state.storage.sql.exec<{ b: number }>("SELECT balance_micros AS b FROM customer").toArray()[0]?.b ?? null,
    rewards: state.storage.sql
      .exec<RewardRow>("SELECT session_id, task_id, miner_id, amount_micros, role, slot FROM rewards ORDER BY id")
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

type Completion = { task_id: number; usage: { prompt_tokens: number; completion_tokens: number }; miners: { miner: string; slot: number }[] };

async function complete(sessionId: number, body: Record<string, unknown>) {
  const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: body });
  expect(res.status).toBe(200);
  return (await res.json()) as Completion;
}

/** The slot whose output the client got, as the task's receipt names it (read with the admin key: the task may be a customer's or a payer's). */
async function answerSlot(sessionId: number, taskId: number): Promise<number> {
  const res = await call(`/api/v1/tasks/${sessionId}/${taskId}/receipt`, { key: TEST_ADMIN_KEY });
  expect(res.status).toBe(200);
  return ((await res.json()) as { chosen: { slot: number } }).chosen.slot;
}

/**
 * What fastA and fastB are owed for a task whose pool is `pool` micros:
 * split evenly, the odd micro to the worker (the miner whose output was chosen).
 */
async function expectedRewards(sessionId: number, c: Completion, ids: Record<string, string>, pool: number) {
  const worker = await answerSlot(sessionId, c.task_id);
  const out: Record<string, RewardRow> = {};
  for (const name of ["fastA", "fastB"]) {
    const slot = c.miners.find((m) => m.miner === ids[name])!.slot;
    const role = slot === worker ? "worker" : "validator";
    out[name] = { session_id: sessionId, task_id: c.task_id, miner_id: ids[name]!, amount_micros: Math.floor(pool / 2) + (role === "worker" ? pool % 2 : 0), role, slot };
  }
  return out;
}

describe("miner rewards", () => {
  freezeSessionAlarms();

  it("pays the agreeing miners per token of the chosen output, split with their roles, once per task, after the answer; the disagreeing one nothing", async () => {
    const { sessionId, ids, accounts } = await rewardedSession();
    const first = await complete(sessionId, { prompt: "reward me", request_id: "rw-1" });
    // Queued with the outcome, not credited on the client's wait.
    expect(await pendingRewards(sessionId)).toBe(2);
    expect((await account(accounts.fastA!)).rewards).toEqual([]);

    expect(await flushReports(sessionId)).toBe(true);
    expect(await pendingRewards(sessionId)).toBe(0);
    const pool = first.usage.completion_tokens * PER_TOKEN;
    expect(pool).toBeGreaterThan(0);
    const owed = await expectedRewards(sessionId, first, ids, pool);
    expect(
      Object.values(owed)
        .map((r) => r.role)
        .sort(),
    ).toEqual(["validator", "worker"]);
    for (const name of ["fastA", "fastB"]) {
      expect(await account(accounts[name]!)).toEqual({ balance: 1000 + owed[name]!.amount_micros, rewards: [owed[name]] });
    }
    expect(await account(accounts.wrong!)).toEqual({ balance: 1000, rewards: [] });

    // A replayed request runs nothing new; the alarm run again (and after a restart) credits nothing more.
    expect((await complete(sessionId, { prompt: "reward me", request_id: "rw-1" })).task_id).toBe(first.task_id);
    await flushReports(sessionId);
    await evictDurableObject(sessionStub(sessionId));
    await flushReports(sessionId);
    for (const name of ["fastA", "fastB"]) expect((await account(accounts[name]!)).balance).toBe(1000 + owed[name]!.amount_micros);

    // N tasks: N rewards each, every one naming its task.
    const second = await complete(sessionId, { prompt: "again", request_id: "rw-2" });
    const third = await complete(sessionId, { prompt: "and again" });
    await flushReports(sessionId);
    const a = await account(accounts.fastA!);
    expect(a.rewards.map((r) => r.task_id)).toEqual([first.task_id, second.task_id, third.task_id]);
    expect(a.balance).toBe(1000 + a.rewards.reduce((sum, r) => sum + r.amount_micros, 0));
    expect((await account(accounts.wrong!)).balance).toBe(1000);
  });

  it("credits a reward the Ledger already took once, when the session sends it again", async () => {
    const { sessionId, accounts } = await rewardedSession();
    await complete(sessionId, { prompt: "lost answer" });
    const queued = await runInDurableObject(sessionStub(sessionId), (_instance, state) =>
      state.storage.sql
        .exec<{ task_id: number; miner_id: string; amount_micros: number; role: "worker" | "validator"; slot: number; source: string }>(
          "SELECT task_id, miner_id, amount_micros, role, slot, source FROM pending_rewards",
        )
        .toArray(),
    );
    const rewards = queued.map((r) => ({ sessionId, taskId: r.task_id, minerId: r.miner_id, amountMicros: r.amount_micros, role: r.role, slot: r.slot, source: r.source }));
    const fastA = rewards.filter((r) => r.minerId.startsWith("fastA"));
    // The Ledger took the rewards but the session never heard (its answer lost): the flush sends them again.
    expect(await ledger(accounts.fastA!).creditRewards(fastA)).toEqual({ credited: 1, held: false });
    await flushReports(sessionId);
    for (const name of ["fastA", "fastB"] as const) {
      const mine = rewards.find((r) => r.minerId.startsWith(name))!;
      expect((await account(accounts[name]!)).balance).toBe(1000 + mine.amountMicros);
    }
  });

  it("holds the rewards of a payout account with no customer yet, and credits them when the customer is created", async () => {
    const { model, ids } = await minersFor(["fastA", "fastB"]);
    const future = uniq("future");
    // Set behind the admin route's check (a miner registered before it existed): the registry takes any name.
    await registry().updateMiner(ids.fastA!, { payout_account: future });
    const sessionId = await createSession({ model, redundancy: 2 });
    const c = await complete(sessionId, { prompt: "held for later" });
    await flushReports(sessionId);
    // Taken by the account's Ledger, which has no customer: nothing left in the outbox, nothing lost.
    expect(await pendingRewards(sessionId)).toBe(0);
    const held = await account(future);
    expect(held.balance).toBeNull();
    expect(held.rewards).toEqual([expect.objectContaining({ task_id: c.task_id, miner_id: ids.fastA })]);

    expect((await admin("/v1/admin/customers", "POST", { id: future, name: future, balance_micros: 0 })).status).toBe(201);
    const reward = held.rewards[0]!.amount_micros;
    expect(reward).toBeGreaterThan(0);
    expect(await account(future)).toEqual({ balance: reward, rewards: held.rewards });
    const key = ((await (await admin(`/v1/admin/customers/${future}/keys`, "POST", {})).json()) as { key: string }).key;
    const listed = (await (await call("/neuroshard/api/v1/wallet/transactions", { key })).json()) as { transactions: { type: string; details: { proof_id: string } }[] };
    expect(listed.transactions).toEqual([expect.objectContaining({ type: "reward", details: expect.objectContaining({ proof_id: `proof_${sessionId}_${c.task_id}` }) })]);
    // Credited with the customer, the held rewards keep the ledger's books: every account balances.
    const books = (await (await admin("/api/v1/admin/ledger/conservation", "GET")).json()) as { holds: boolean; unbalanced_accounts: string[] };
    expect(books).toMatchObject({ holds: true, unbalanced_accounts: [] });
  });

  it("pays a gateway task's agreeing miners the configured share of what the customer was billed", async () => {
    const { sessionId, ids, accounts } = await rewardedSession();
    const payer = uniq("payer");
    await admin("/v1/admin/customers", "POST", { id: payer, name: payer, balance_micros: 1_000_000_000 });
    const key = ((await (await admin(`/v1/admin/customers/${payer}/keys`, "POST", {})).json()) as { key: string }).key;
    // A price high enough that a short answer's share is many micros.
    const vars = {
      GATEWAY_MODELS: JSON.stringify({ default: { pool: "local", session_id: sessionId } }),
      GATEWAY_PRICES: JSON.stringify({ "*": { prompt_per_1k_micros: 300_000, completion_per_1k_micros: 700_000 } }),
    };
    const request = new Request("http://router.test/v1/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "default", prompt: "billed work" }),
    });
    const { response, settled } = await fetchWorker(request, vars);
    expect(response.status).toBe(200);
    const envelope = (await response.json()) as { data: { task_id: number } };
    await settled();
    const billed = await runInDurableObject(ledger(payer), (_instance, state) => state.storage.sql.exec<{ c: number }>("SELECT cost_micros AS c FROM usage").one().c);
    expect(billed).toBeGreaterThan(0);

    await flushReports(sessionId);
    // A gateway customer's task: its answer is for the customer and the admin key, not router keys.
    const completion = (await (await admin(`/api/v1/tasks/${sessionId}/${envelope.data.task_id}`, "GET")).json()) as { result: Completion };
    const owed = await expectedRewards(sessionId, { ...completion.result, task_id: envelope.data.task_id }, ids, Math.floor((billed * SHARE_BPS) / 10_000));
    for (const name of ["fastA", "fastB"]) expect((await account(accounts[name]!)).rewards).toEqual([owed[name]]);
    expect((await account(accounts.wrong!)).rewards).toEqual([]);
  });
});

describe("x402 rewards", () => {
  /** A client paying with a throwaway wallet, through the Worker with x402 on. */
  function payingClient() {
    const payer = privateKeyToAccount(generatePrivateKey());
    const base = workerFetch({ X402_ROUTES: "all", X402_FACILITATOR_URL: inject("facilitator").url, X402_PAY_TO: "0x9999999999999999999999999999999999999999" });
    return wrapFetchWithPaymentFromConfig(base, { schemes: [{ network: "eip155:84532", client: new ExactEvmScheme(payer) }] });
  }

  it("pays a paid completion's agreeing miners the configured share of the payment", async () => {
    const { sessionId, ids, accounts } = await rewardedSession();
    const pay = payingClient();
    const res = await pay(`http://router.test/api/v1/x402/completions/${sessionId}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "paid work" }),
    });
    expect(res.status).toBe(200);
    const c = (await res.json()) as Completion;
    await flushReports(sessionId);
    // The default completions price, $0.01: 10 000 micros.
    const owed = await expectedRewards(sessionId, c, ids, Math.floor((10_000 * SHARE_BPS) / 10_000));
    for (const name of ["fastA", "fastB"]) expect((await account(accounts[name]!)).rewards).toEqual([owed[name]]);
  });

  it("pays a paid validation's agreeing miners the configured share of its price", async () => {
    const { sessionId, ids, accounts } = await rewardedSession();
    const res = await payingClient()("http://router.test/api/v1/x402/validate", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        session_id: sessionId,
        claim: { type: "technical_summary", description: "Does the output describe routers?", output: "Routers coordinate API requests and sessions." },
        policy: { redundancy: 3 },
      }),
    });
    expect(res.status).toBe(200);
    const { task_ids } = (await res.json()) as { task_ids: number[] };
    await flushReports(sessionId);
    // The default validate price, $0.02: 20 000 micros, of which 20 % is shared by fastA and fastB (the wrong miner's verdict is outvoted).
    for (const name of ["fastA", "fastB"]) {
      expect((await account(accounts[name]!)).rewards).toEqual([expect.objectContaining({ task_id: task_ids[0], miner_id: ids[name], amount_micros: 2000 })]);
    }
    expect((await account(accounts.wrong!)).rewards).toEqual([]);
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

  it("shows a miner operator its balance and its rewards with their proofs and roles, and usage charges, newest first", async () => {
    const { sessionId, ids, accounts } = await rewardedSession();
    const first = await complete(sessionId, { prompt: "wallet one" });
    const second = await complete(sessionId, { prompt: "wallet two" });
    await flushReports(sessionId);
    // A usage charge, as the gateway's billing records it.
    await ledger(accounts.fastA!).recordUsage(usageCharge(30, 10));
    const key = await keyFor(accounts.fastA!);
    const earned = (await account(accounts.fastA!)).rewards;
    const [older, newer] = earned;

    const balance = await call(`${base}/balance`, { key });
    expect(balance.status).toBe(200);
    const expected = (1000 + older!.amount_micros + newer!.amount_micros - 30) / 1_000_000;
    expect(await balance.json()).toEqual({ address: accounts.fastA, currency: "USD", balances: { available: expected, staked: 0, pending: 0, total: expected }, staking: null });

    const all = await call(`${base}/transactions?limit=10&offset=0`, { key });
    expect(all.status).toBe(200);
    const body = (await all.json()) as {
      transactions: { id: string; type: string; amount: number; timestamp: string; details: Record<string, unknown> }[];
      total: number;
      limit: number;
      offset: number;
    };
    // The opening balance is the oldest entry, a credit.
    expect(body).toMatchObject({ total: 4, limit: 10, offset: 0 });
    expect(body.transactions.map((t) => [t.type, t.amount])).toEqual([
      ["usage", -30 / 1_000_000],
      ["reward", newer!.amount_micros / 1_000_000],
      ["reward", older!.amount_micros / 1_000_000],
      ["credit", 1000 / 1_000_000],
    ]);
    const [, newest, oldest] = body.transactions;
    expect(newest?.details).toEqual({
      proof_id: `proof_${sessionId}_${second.task_id}`,
      session_id: sessionId,
      task_id: second.task_id,
      miner_id: ids.fastA,
      role: newer!.role,
      slot: newer!.slot,
    });
    expect(newest?.details.slot).toBe(second.miners.find((m) => m.miner === ids.fastA)!.slot);
    expect(oldest?.details).toMatchObject({ proof_id: `proof_${sessionId}_${first.task_id}`, task_id: first.task_id, role: older!.role });
    expect(new Set(body.transactions.map((t) => t.id)).size).toBe(4);

    const page = (await (await call(`${base}/transactions?limit=1&offset=1`, { key })).json()) as typeof body;
    expect(page).toMatchObject({ total: 4, limit: 1, offset: 1 });
    expect(page.transactions.map((t) => t.id)).toEqual([newest?.id]);

    // The disagreeing miner's operator sees nothing earned: its opening balance only.
    const wrongKey = await keyFor(accounts.wrong!);
    const wrongListed = (await (await call(`${base}/transactions`, { key: wrongKey })).json()) as typeof body;
    expect(wrongListed).toMatchObject({ total: 1, limit: 10, offset: 0 });
    expect(wrongListed.transactions.map((t) => t.type)).toEqual(["credit"]);
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
