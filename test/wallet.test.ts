import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { LedgerObject } from "../durable-objects/ledger";
import { LEDGER_MIGRATIONS } from "../durable-objects/ledger-schema";
import type { Transfers } from "../durable-objects/wallet/transfers";
import { admin, call, fetchWorker, mulberry32, uniq, uniqSessionId, usageCharge } from "./helpers";
import { emissionFunding, payReward } from "./sources";

const BASE = "/neuroshard/api/v1/wallet";
const DAY = 86_400_000;
const UNIT = 1_000_000;
/** A wallet key that may move money (a new key may not unless granted wallet:move). */
const MOVER = ["completions", "wallet:read", "wallet:move"];

const ledger = (customerId: string) => env.LEDGERS.get(env.LEDGERS.idFromName(`customer:${customerId}`));

type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };
type Balance = { address: string; currency: string; balances: { available: number; staked: number; pending: number; total: number }; staking: Record<string, unknown> | null };
type Transactions = { transactions: { id: string; type: string; amount: number; timestamp: string; details: Record<string, unknown> }[]; total: number };

/** A gateway customer (a wallet account) with `balance` micros and one key that may move its money. */
async function account(balance = 10 * UNIT): Promise<{ id: string; key: string }> {
  const id = uniq("w");
  const created = await admin("/v1/admin/customers", "POST", { id, name: id, balance_micros: balance });
  expect(created.status).toBe(201);
  const issued = await admin(`/v1/admin/customers/${id}/keys`, "POST", { scopes: MOVER, requests_per_minute: 100_000 });
  expect(issued.status).toBe(201);
  return { id, key: ((await issued.json()) as { key: string }).key };
}

/** Wallet moves, under a move limit these tests do not reach (test/adversarial/economy/key-scopes.test.ts tests it). */
const post = async (path: string, key: string, json: unknown, headers: Record<string, string> = {}) =>
  (
    await fetchWorker(
      new Request(`http://router.test${BASE}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
        body: JSON.stringify(json),
      }),
      { WALLET_MOVES_PER_MINUTE: "100000" },
    )
  ).response;
const balanceOf = async (key: string) => (await (await call(`${BASE}/balance`, { key })).json()) as Balance;
const transactionsOf = async (key: string, query = "limit=100") => (await (await call(`${BASE}/transactions?${query}`, { key })).json()) as Transactions;
const conservation = async () => {
  const res = await admin("/api/v1/admin/ledger/conservation", "GET");
  expect(res.status).toBe(200);
  return (await res.json()) as { holds: boolean; unbalanced_accounts: string[]; transfers_match: boolean; totals_micros: Record<string, number> };
};

describe("wallet: the seed's curls", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.UTC(2024, 11, 4, 12, 0, 0));
  });
  afterEach(() => vi.useRealTimers());

  it("answers balance, send, transactions, stake and unstake with the seed's fields", async () => {
    const me = await account(22_580_230_000);
    const other = await account(0);

    const balance = await call(`${BASE}/balance`, { key: me.key });
    expect(balance.status).toBe(200);
    expect(await balance.json()).toEqual({ address: me.id, currency: "USD", balances: { available: 22580.23, staked: 0, pending: 0, total: 22580.23 }, staking: null });

    // The currency is the operator's (LEDGER_CURRENCY), in the balance and in a refusal's amounts.
    const inEuro = (path: string, init: RequestInit = {}) =>
      fetchWorker(new Request(`http://router.test${BASE}${path}`, { ...init, headers: { authorization: `Bearer ${me.key}`, "content-type": "application/json" } }), {
        LEDGER_CURRENCY: "EUR",
      });
    expect(((await (await inEuro("/balance")).response.json()) as Balance).currency).toBe("EUR");
    const refused = (await inEuro("/send", { method: "POST", body: JSON.stringify({ to: other.id, amount: 1_000_000 }) })).response;
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as { error: { details: Record<string, unknown> } }).error.details).toEqual({ required: 1_000_000, available: 22580.23, currency: "EUR" });

    // The seed's send, with its fee of 0.1 configured.
    const request = new Request(`http://router.test${BASE}/send`, {
      method: "POST",
      headers: { authorization: `Bearer ${me.key}`, "content-type": "application/json" },
      body: JSON.stringify({ to: other.id, amount: 100.0, memo: "Payment for services" }),
    });
    const sent = (await fetchWorker(request, { WALLET_SEND_FEE_MICROS: "100000" })).response;
    expect(sent.status).toBe(200);
    const tx = (await sent.json()) as Record<string, unknown>;
    expect(tx).toEqual({
      transaction_id: expect.stringMatching(/^tx_[0-9a-f]{24}$/),
      from: me.id,
      to: other.id,
      to_account: other.id,
      amount: 100,
      fee: 0.1,
      memo: "Payment for services",
      status: "confirmed",
      timestamp: "2024-12-04T12:00:00.000Z",
    });
    expect((await balanceOf(other.key)).balances.available).toBe(100);

    const staked = await post("/stake", me.key, { amount: 10000.0, duration_days: 30 });
    expect(staked.status).toBe(200);
    expect(await staked.json()).toEqual({
      success: true,
      stake: { amount: 10000, duration_days: 30, start_date: "2024-12-04", unlock_date: "2025-01-03", multiplier: 1.5 },
      new_balance: { available: 12480.13, staked: 10000 },
    });
    expect(await balanceOf(me.key)).toEqual({
      address: me.id,
      currency: "USD",
      balances: { available: 12480.13, staked: 10000, pending: 0, total: 22480.13 },
      staking: { amount: 10000, duration_days: 30, start_date: "2024-12-04", unlock_date: "2025-01-03", multiplier: 1.5 },
    });

    vi.setSystemTime(Date.UTC(2025, 0, 3, 12, 0, 0));
    const unstaked = await post("/unstake", me.key, { amount: 5000.0 });
    expect(unstaked.status).toBe(200);
    expect(await unstaked.json()).toEqual({ success: true, unstake: { amount: 5000, cooldown_days: 7, available_date: "2025-01-10" } });

    const page = await call(`${BASE}/transactions?limit=10&offset=0`, { key: me.key });
    expect(page.status).toBe(200);
    const list = (await page.json()) as Transactions & { limit: number; offset: number };
    expect(list).toMatchObject({ total: 4, limit: 10, offset: 0 });
    expect(list.transactions.map((t) => [t.type, t.amount])).toEqual([
      ["unstake", 5000],
      ["stake", -10000],
      ["send", -100.1],
      ["credit", 22580.23],
    ]);
    expect(list.transactions[2]).toEqual({
      id: tx["transaction_id"],
      type: "send",
      amount: -100.1,
      to: other.id,
      timestamp: "2024-12-04T12:00:00.000Z",
      details: { amount: 100, fee: 0.1, memo: "Payment for services" },
    });
    const received = await transactionsOf(other.key);
    expect(received.transactions[0]).toMatchObject({ type: "receive", amount: 100, from: me.id, details: { transaction_id: tx["transaction_id"], memo: "Payment for services" } });
  });
});

describe("wallet: send", () => {
  it("lets at most three of 50 parallel sends of 30 % of the balance through, and never overdraws", async () => {
    const me = await account(10 * UNIT);
    const other = await account(0);
    const answers = await Promise.all(Array.from({ length: 50 }, () => post("/send", me.key, { to: other.id, amount: "3" })));
    const ok = answers.filter((r) => r.status === 200);
    expect(ok).toHaveLength(3);
    for (const refused of answers.filter((r) => r.status !== 200)) {
      expect(refused.status).toBe(402);
      const body = (await refused.json()) as ErrorBody;
      expect(body.error.code).toBe("INSUFFICIENT_BALANCE");
      expect(body.error.details).toMatchObject({ required: 3, available: 1 });
    }
    expect((await balanceOf(me.key)).balances).toEqual({ available: 1, staked: 0, pending: 0, total: 1 });
    expect((await balanceOf(other.key)).balances.available).toBe(9);
    expect((await transactionsOf(me.key)).transactions.filter((t) => t.type === "send")).toHaveLength(3);
  });

  it("moves money once for a send retried with the same Idempotency-Key, and answers the same", async () => {
    const me = await account(10 * UNIT);
    const other = await account(0);
    const body = { to: other.id, amount: 2, memo: "once" };
    const first = await post("/send", me.key, body, { "idempotency-key": "pay-1" });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-idempotent-replay")).toBeNull();
    const firstBody = await first.json();
    // Retried, one after the other and all at once.
    const retries = [await post("/send", me.key, body, { "idempotency-key": "pay-1" })];
    retries.push(...(await Promise.all(Array.from({ length: 5 }, () => post("/send", me.key, body, { "idempotency-key": "pay-1" })))));
    for (const r of retries) {
      expect(r.status).toBe(200);
      expect(r.headers.get("x-idempotent-replay")).toBe("true");
      expect(await r.json()).toEqual(firstBody);
    }
    expect((await balanceOf(me.key)).balances.available).toBe(8);
    expect((await balanceOf(other.key)).balances.available).toBe(2);

    // The same key for another send is refused; nothing moves.
    const conflict = await post("/send", me.key, { ...body, amount: 3 }, { "idempotency-key": "pay-1" });
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as ErrorBody).error.code).toBe("IDEMPOTENCY_CONFLICT");
    // A fresh key is a new send.
    expect((await post("/send", me.key, body, { "idempotency-key": "pay-2" })).status).toBe(200);
    expect((await balanceOf(me.key)).balances.available).toBe(6);
  });

  it("concurrent first sends with one key move money once", async () => {
    const me = await account(10 * UNIT);
    const other = await account(0);
    const answers = await Promise.all(Array.from({ length: 10 }, () => post("/send", me.key, { to: other.id, amount: 1 }, { "idempotency-key": "race" })));
    const bodies = await Promise.all(answers.map(async (r) => ({ status: r.status, body: (await r.json()) as { transaction_id: string } })));
    expect(bodies.every((b) => b.status === 200)).toBe(true);
    expect(new Set(bodies.map((b) => b.body.transaction_id)).size).toBe(1);
    expect((await balanceOf(me.key)).balances.available).toBe(9);
    expect((await balanceOf(other.key)).balances.available).toBe(1);
  });

  it("refuses a send to an unknown account with nothing moved", async () => {
    const me = await account(10 * UNIT);
    const before = await transactionsOf(me.key);
    const res = await post("/send", me.key, { to: uniq("nobody"), amount: 1 });
    expect(res.status).toBe(404);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe("ACCOUNT_NOT_FOUND");
    expect(body.error.details).toMatchObject({ field: "to" });
    expect((await balanceOf(me.key)).balances.available).toBe(10);
    expect(await transactionsOf(me.key)).toEqual(before);
  });

  it("names the field of a bad send: itself, non-positive, too many decimals, not a number, unknown fields", async () => {
    const me = await account(10 * UNIT);
    const other = await account(0);
    const cases: [unknown, string][] = [
      [{ to: me.id, amount: 1 }, "to"],
      [{ to: other.id, amount: 0 }, "amount"],
      [{ to: other.id, amount: -1 }, "amount"],
      [{ to: other.id, amount: "0.0000001" }, "amount"],
      [{ to: other.id, amount: 0.1234567 }, "amount"],
      [{ to: other.id, amount: 1e-7 }, "amount"],
      [{ to: other.id, amount: "1e3" }, "amount"],
      [{ to: other.id, amount: "ten" }, "amount"],
      [{ to: other.id }, "amount"],
      [{ to: "Not An Id", amount: 1 }, "to"],
      [{ to: other.id, amount: 1, memo: "x".repeat(257) }, "memo"],
      [{ to: other.id, amount: 1, extra: true }, "extra"],
    ];
    for (const [json, field] of cases) {
      const res = await post("/send", me.key, json);
      expect(res.status, JSON.stringify(json)).toBe(400);
      const body = (await res.json()) as ErrorBody;
      expect(body.error.code, JSON.stringify(json)).toBe("INVALID_REQUEST");
      expect(body.error.details?.["field"], JSON.stringify(json)).toBe(field);
    }
    const badKey = await post("/send", me.key, { to: other.id, amount: 1 }, { "idempotency-key": "has space" });
    expect(badKey.status).toBe(400);
    expect(((await badKey.json()) as ErrorBody).error.details?.["field"]).toBe("idempotency-key");
    expect((await balanceOf(me.key)).balances.available).toBe(10);
  });

  it("reads decimals exactly: 0.1 and 0.2 as numbers and strings move 0.3 to the micro", async () => {
    const me = await account(1 * UNIT);
    const other = await account(0);
    for (const amount of [0.1, "0.2", "0.000001", 0.000001]) expect((await post("/send", me.key, { to: other.id, amount })).status).toBe(200);
    const figures = await ledger(other.id).figures();
    expect(figures?.available).toBe(300_002);
    expect(figures?.received).toBe(300_002);
    expect((await ledger(me.id).figures())?.available).toBe(699_998);
  });

  it("delivers a transfer the sender debited but did not deliver by its alarm, once, and never twice", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const me = await account(10 * UNIT);
      const other = await account(0);
      // The debit and the transfer record, as a send writes them, with the process gone before delivery.
      const id = "tx_000000000000000000000001";
      await runInDurableObject(ledger(me.id), (instance: LedgerObject, state) => {
        const transfers = (instance as unknown as { transfers: Transfers }).transfers;
        state.storage.transactionSync(() =>
          transfers.record({ id, idempotency_key: null, to_account: other.id, amount_micros: 4 * UNIT, fee_micros: 0, memo: "late", created_at: Date.now() }),
        );
        return state.storage.setAlarm(Date.now() + 5000);
      });
      expect((await balanceOf(me.key)).balances.available).toBe(6);
      expect((await balanceOf(other.key)).balances.available).toBe(0);
      expect((await conservation()).totals_micros["in_flight"]).toBeGreaterThanOrEqual(4 * UNIT);

      vi.setSystemTime(Date.now() + 6000);
      expect(await runDurableObjectAlarm(ledger(me.id))).toBe(true);
      expect((await balanceOf(other.key)).balances.available).toBe(4);
      expect((await transactionsOf(me.key)).transactions.find((t) => t.id === id)).toMatchObject({ type: "send", amount: -4 });

      // The acknowledgement lost: the sender delivers again; the recipient credits nothing more.
      await runInDurableObject(ledger(me.id), async (_instance, state) => {
        state.storage.sql.exec("UPDATE transfers_out SET delivered_at = NULL, next_attempt_at = 0 WHERE id = ?", id);
        await state.storage.setAlarm(Date.now());
      });
      expect(await runDurableObjectAlarm(ledger(me.id))).toBe(true);
      expect((await balanceOf(other.key)).balances.available).toBe(4);
      expect(await ledger(other.id).receiveTransfer({ id, from: me.id, amountMicros: 4 * UNIT, memo: "late", at: 0 })).toEqual({ credited: false });
      const conserved = await conservation();
      expect(conserved.holds).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it("answers 401 without a customer key", async () => {
    for (const path of ["/send", "/stake", "/unstake"]) {
      const res = await call(`${BASE}${path}`, { method: "POST", key: null, json: { amount: 1 } });
      expect(res.status).toBe(401);
      expect(((await res.json()) as ErrorBody).error.code).toBe("UNAUTHORIZED");
    }
  });
});

describe("wallet: stake and unstake", () => {
  const T0 = Date.UTC(2026, 0, 1);
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0);
  });
  afterEach(() => vi.useRealTimers());

  it("locks a stake until its unlock date, then cools an unstake down before it is available again", async () => {
    const me = await account(100 * UNIT);
    expect(await ledger(me.id).lockedStake(T0)).toEqual({ stakedMicros: 0, tierBps: 0 });
    expect((await post("/stake", me.key, { amount: "40", duration_days: 30 })).status).toBe(200);
    expect(await ledger(me.id).lockedStake(T0)).toEqual({ stakedMicros: 40 * UNIT, tierBps: 15_000 });
    expect(await ledger(me.id).lockedStake(T0 + 30 * DAY - 1)).toEqual({ stakedMicros: 40 * UNIT, tierBps: 15_000 });

    // Before the unlock date: refused, nothing moves.
    vi.setSystemTime(T0 + 30 * DAY - 1);
    const early = await post("/unstake", me.key, { amount: 10 });
    expect(early.status).toBe(409);
    expect(((await early.json()) as ErrorBody).error).toMatchObject({ code: "STAKE_LOCKED", details: { unlock_date: new Date(T0 + 30 * DAY).toISOString() } });
    expect((await balanceOf(me.key)).balances).toEqual({ available: 60, staked: 40, pending: 0, total: 100 });

    // From the unlock date: the amount is pending for the cooldown, the stake no longer weighs.
    vi.setSystemTime(T0 + 30 * DAY);
    expect(await ledger(me.id).lockedStake(T0 + 30 * DAY)).toEqual({ stakedMicros: 0, tierBps: 0 });
    const over = await post("/unstake", me.key, { amount: 41 });
    expect(over.status).toBe(402);
    expect(((await over.json()) as ErrorBody).error).toMatchObject({ code: "INSUFFICIENT_STAKE", details: { required: 41, available: 40 } });
    const unstaked = await post("/unstake", me.key, { amount: 10 });
    expect(unstaked.status).toBe(200);
    expect(await unstaked.json()).toEqual({ success: true, unstake: { amount: 10, cooldown_days: 7, available_date: "2026-02-07" } });
    expect((await balanceOf(me.key)).balances).toEqual({ available: 60, staked: 30, pending: 10, total: 100 });

    vi.setSystemTime(T0 + 37 * DAY - 1);
    expect((await balanceOf(me.key)).balances).toEqual({ available: 60, staked: 30, pending: 10, total: 100 });
    // The cooldown over: available again, by the alarm or on the next read.
    vi.setSystemTime(T0 + 37 * DAY);
    expect(await runDurableObjectAlarm(ledger(me.id))).toBe(true);
    expect((await balanceOf(me.key)).balances).toEqual({ available: 70, staked: 30, pending: 0, total: 100 });
    expect((await transactionsOf(me.key)).transactions.map((t) => [t.type, t.amount])).toEqual([
      ["release", 10],
      ["unstake", 10],
      ["stake", -40],
      ["credit", 100],
    ]);

    // All of the rest: the stake is gone.
    expect((await post("/unstake", me.key, { amount: 30 })).status).toBe(200);
    expect((await balanceOf(me.key)).staking).toBeNull();
    expect((await conservation()).holds).toBe(true);
  });

  it("refuses a stake over the balance, shorter than the shortest lock, or shortening the current lock", async () => {
    const me = await account(10 * UNIT);
    const over = await post("/stake", me.key, { amount: 11, duration_days: 30 });
    expect(over.status).toBe(402);
    expect(((await over.json()) as ErrorBody).error).toMatchObject({ code: "INSUFFICIENT_BALANCE", details: { required: 11, available: 10 } });
    const short = await post("/stake", me.key, { amount: 1, duration_days: 6 });
    expect(short.status).toBe(400);
    expect(((await short.json()) as ErrorBody).error.details?.["field"]).toBe("duration_days");
    for (const [json, field] of [
      [{ amount: 1 }, "duration_days"],
      [{ amount: 1, duration_days: 1.5 }, "duration_days"],
      [{ amount: "1.0000001", duration_days: 30 }, "amount"],
    ] as const) {
      const res = await post("/stake", me.key, json);
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error.details?.["field"]).toBe(field);
    }

    // 45 days earn the 30-day tier; staking more for 90 relocks all of it at 2.
    expect(((await (await post("/stake", me.key, { amount: 2, duration_days: 45 })).json()) as { stake: { multiplier: number } }).stake.multiplier).toBe(1.5);
    const shorter = await post("/stake", me.key, { amount: 1, duration_days: 30 });
    expect(shorter.status).toBe(409);
    expect(((await shorter.json()) as ErrorBody).error).toMatchObject({ code: "STAKE_LOCKED", details: { field: "duration_days" } });
    const longer = await post("/stake", me.key, { amount: 1, duration_days: 90 });
    expect(await longer.json()).toMatchObject({ stake: { amount: 3, duration_days: 90, multiplier: 2, unlock_date: "2026-04-01" }, new_balance: { available: 7, staked: 3 } });
    expect(await ledger(me.id).lockedStake(T0)).toEqual({ stakedMicros: 3 * UNIT, tierBps: 20_000 });
  });

  it("lets a usage charge take the available balance below zero, never the stake, and then spends nothing more", async () => {
    const me = await account(10 * UNIT);
    const other = await account(0);
    expect((await post("/stake", me.key, { amount: 8, duration_days: 7 })).status).toBe(200);
    // Billed after the work, as the gateway bills: 3 against the 2 available.
    const billed = await ledger(me.id).recordUsage(usageCharge(3 * UNIT));
    expect(billed.billed).toBe(true);
    expect((await balanceOf(me.key)).balances).toEqual({ available: -1, staked: 8, pending: 0, total: 7 });
    const send = await post("/send", me.key, { to: other.id, amount: "0.000001" });
    expect(send.status).toBe(402);
    expect(((await send.json()) as ErrorBody).error.details).toMatchObject({ required: 0.000001, available: -1 });
    expect((await post("/stake", me.key, { amount: 1, duration_days: 7 })).status).toBe(402);
    expect((await balanceOf(me.key)).balances).toEqual({ available: -1, staked: 8, pending: 0, total: 7 });
    expect((await conservation()).holds).toBe(true);
  });

  it("slashes a share of the stake once per key", async () => {
    const me = await account(10 * UNIT);
    expect(await ledger(me.id).slash("task:1:miner-a", 1000)).toEqual({ slashed_micros: 0, staked_micros: 0, replayed: false });
    expect((await post("/stake", me.key, { amount: 10, duration_days: 30 })).status).toBe(200);
    // The key was spent while nothing was staked: the stake does not pay for it later.
    expect(await ledger(me.id).slash("task:1:miner-a", 1000)).toEqual({ slashed_micros: 0, staked_micros: 10 * UNIT, replayed: true });
    expect(await ledger(me.id).slash("task:2:miner-a", 1000)).toEqual({ slashed_micros: UNIT, staked_micros: 9 * UNIT, replayed: false });
    expect(await ledger(me.id).slash("task:2:miner-a", 1000)).toEqual({ slashed_micros: UNIT, staked_micros: 9 * UNIT, replayed: true });
    expect(await ledger(me.id).slash("task:3:miner-a", 1000)).toEqual({ slashed_micros: 900_000, staked_micros: 8_100_000, replayed: false });
    expect((await balanceOf(me.key)).balances).toEqual({ available: 0, staked: 8.1, pending: 0, total: 8.1 });
    expect((await transactionsOf(me.key)).transactions.filter((t) => t.type === "slash").map((t) => [t.amount, t.details])).toEqual([
      [-0.9, { share_bps: 1000 }],
      [-1, { share_bps: 1000 }],
      [0, { share_bps: 1000 }],
    ]);
    expect(await ledger(uniq("nobody")).slash("k", 1000)).toBeNull();
    expect((await conservation()).holds).toBe(true);
  });
});

describe("wallet: conservation", () => {
  it("holds after a seeded random sequence of sends, stakes, unstakes, slashes, credits, charges and rewards, and names an account that breaks it", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      let now = Date.UTC(2026, 5, 1);
      vi.setSystemTime(now);
      const random = mulberry32(20261130);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)] as T;
      const accounts = await Promise.all(Array.from({ length: 5 }, () => account(Math.floor(random() * 50 * UNIT))));
      // This sequence's own reward pool and session: its rewards are issued there, as a session's are.
      const walletPool = uniq("pool");
      const walletSession = uniqSessionId();
      const done: Record<string, number> = {};
      for (let step = 0; step < 120; step++) {
        const a = pick(accounts);
        const op = pick(["send", "send", "stake", "unstake", "unstake", "unstake", "slash", "credit", "charge", "reward", "time", "time"] as const);
        const amount = (Math.floor(random() * 5 * UNIT) + 1) / UNIT;
        let status = 0;
        if (op === "send") status = (await post("/send", a.key, { to: pick(accounts.filter((b) => b !== a)).id, amount: String(amount) })).status;
        else if (op === "stake") status = (await post("/stake", a.key, { amount: String(amount), duration_days: pick([7, 30, 90]) })).status;
        else if (op === "unstake") {
          // Half the time all that is staked (refused while locked), else a random amount (maybe more than staked).
          const staked = (await balanceOf(a.key)).balances.staked;
          status = (await post("/unstake", a.key, { amount: staked > 0 && random() < 0.5 ? staked.toFixed(6) : String(amount) })).status;
        } else if (op === "slash") status = (await ledger(a.id).slash(`k${step}`, Math.floor(random() * 10_000))) ? 200 : 500;
        else if (op === "credit") status = (await admin(`/v1/admin/customers/${a.id}/credit`, "POST", { amount_micros: Math.round(amount * UNIT) })).status;
        else if (op === "charge") {
          const billed = await ledger(a.id).recordUsage(usageCharge(Math.round(amount * UNIT)));
          status = billed.billed ? 200 : 500;
        } else if (op === "reward") {
          // Through its source, as the sessions pay rewards: an unsourced credit would fail the check below.
          const micros = Math.round(amount * UNIT);
          const reward = { sessionId: walletSession, taskId: step, minerId: a.id, amountMicros: micros, role: "worker" as const, slot: 0 };
          status = (await payReward(a.id, reward, emissionFunding(walletPool, micros, 1_000_000_000_000))) === micros ? 200 : 500;
        } else {
          now += pick([1, 8, 31, 40]) * DAY;
          vi.setSystemTime(now);
          status = 200;
        }
        done[`${op} ${status}`] = (done[`${op} ${status}`] ?? 0) + 1;
      }
      // The sequence exercised both outcomes of the money-moving routes.
      const outcomes = JSON.stringify(done);
      for (const outcome of ["send 200", "stake 200", "unstake 200"]) expect(done[outcome] ?? 0, outcomes).toBeGreaterThan(0);
      expect(
        Object.keys(done).some((k) => /^(send|stake|unstake) 40[29]$/.test(k)),
        outcomes,
      ).toBe(true);

      const result = await conservation();
      expect(result).toMatchObject({ holds: true, unbalanced_accounts: [], transfers_match: true });

      // A balance changed outside the journal breaks it, and the check names the account.
      const victim = accounts[0]!;
      const nudge = (delta: number) =>
        runInDurableObject(ledger(victim.id), (_i, state) => {
          state.storage.sql.exec("UPDATE customer SET balance_micros = balance_micros + ?", delta);
        });
      await nudge(1);
      try {
        expect(await conservation()).toMatchObject({ holds: false, unbalanced_accounts: [victim.id] });
      } finally {
        await nudge(-1);
      }
      expect((await conservation()).holds).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("wallet: the Ledger's migrations from schema 2", () => {
  it("gives an account of schema 2 an opening credit that makes its figures add up, and lists it in the directory", async () => {
    const id = uniq("old");
    const stub = ledger(id);
    // The account as schema 2 left it: a balance of 5000 after a reward of 200 and a charge of 300.
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      for (const table of ["journal", "transfers_out", "stake", "unstakes", "source", "source_issues", "source_tasks", "source_periods", "settlements"])
        sql.exec(`DROP TABLE ${table}`);
      sql.exec("ALTER TABLE customer DROP COLUMN listed_at");
      for (const column of ["role", "slot", "credited_at", "source"]) sql.exec(`ALTER TABLE rewards DROP COLUMN ${column}`);
      sql.exec("ALTER TABLE keys DROP COLUMN scopes");
      sql.exec(
        "INSERT INTO keys (id, key_hash, name, prefix, allowed_models, requests_per_minute, tokens_per_minute, created_at) VALUES ('key_old', 'h', 'old', 'csk_old…', '[\"*\"]', 60, 1000, 1000)",
      );
      sql.exec("UPDATE _schema SET version = 2");
      sql.exec("INSERT INTO customer (id, customer_id, name, billing, balance_micros, spent_micros, created_at) VALUES (1, ?, 'old', 'prepaid', 5000, 300, 1000)", id);
      sql.exec("INSERT INTO rewards (reward_key, session_id, task_id, miner_id, amount_micros, at) VALUES ('1:1:m', 1, 1, 'm', 200, 2000)");
      sql.exec(
        "INSERT INTO usage (request_id, key_id, model, router_pool, prompt_tokens, completion_tokens, latency_ms, status, cost_micros, at) VALUES ('r1', 'k', 'default', 'local', 1, 1, 1, 'ok', 300, 3000)",
      );
    });
    await evictDurableObject(stub);

    const figures = await stub.figures();
    expect(figures).toMatchObject({ available: 5000, credits: 5100, rewards: 200, charges: 300, staked: 0, pending: 0 });
    const version = await runInDurableObject(stub, (_instance, state) => state.storage.sql.exec<{ version: number }>("SELECT version FROM _schema").one().version);
    expect(version).toBe(LEDGER_MIGRATIONS.length);
    // A key issued before scopes keeps completions and wallet reads; it moves no money until granted wallet:move.
    expect((await stub.listKeys())?.map((k) => [k.id, k.scopes])).toEqual([["key_old", ["completions", "wallet:read"]]]);
    // The reward schema 2 had counts as credited when it was earned.
    const reward = await runInDurableObject(stub, (_instance, state) => state.storage.sql.exec<{ credited_at: number }>("SELECT credited_at FROM rewards").one());
    expect(reward.credited_at).toBe(2000);
    // Listed by its alarm on the first wake after the upgrade.
    expect(await env.MINERS.get(env.MINERS.idFromName("registry")).accountIds()).not.toContain(id);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await env.MINERS.get(env.MINERS.idFromName("registry")).accountIds()).toContain(id);
    expect((await conservation()).holds).toBe(true);
  });
});
