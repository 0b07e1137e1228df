import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { admin, call, createSession, fetchWorker, minersFor, uniq } from "./helpers";
import { TEST_ADMIN_KEY, TEST_ROUTER_KEY } from "./keys";
import { flushReports, freezeSessionAlarms } from "./report-flush";

/**
 * GET /api/v1/admin/rewards: each miner's payout account, the stake
 * multiplier selection uses, and what it earned and lost, read from the
 * registry and the payout accounts' Ledgers after real rewarded tasks.
 */

const ledger = (customerId: string) => env.LEDGERS.get(env.LEDGERS.idFromName(`customer:${customerId}`));
const SLASHING = { MINER_SLASH_SHARE_BPS: "1000" };

/** A payout account with 10.0 available and a key to its wallet. */
async function account(): Promise<{ id: string; key: string }> {
  const id = uniq("earner");
  expect((await admin("/v1/admin/customers", "POST", { id, name: id, balance_micros: 10_000_000 })).status).toBe(201);
  const key = ((await (await admin(`/v1/admin/customers/${id}/keys`, "POST", { scopes: ["wallet:read", "wallet:move"] })).json()) as { key: string }).key;
  return { id, key };
}

/** A completion through the Worker under `vars` (the reward and slashing settings travel with the task). */
async function complete(sessionId: number, vars: Record<string, string>) {
  const request = new Request(`http://router.test/api/v1/completions/${sessionId}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_ROUTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ prompt: uniq("earn") }),
  });
  const { response } = await fetchWorker(request, vars);
  expect(response.status).toBe(200);
  return (await response.json()) as { task_id: number; usage: { completion_tokens: number } };
}

async function report(vars: Record<string, string> = {}) {
  const request = new Request("http://router.test/api/v1/admin/rewards", { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
  const { response } = await fetchWorker(request, vars);
  expect(response.status).toBe(200);
  return (await response.json()) as {
    currency: string;
    settings: Record<string, number>;
    miners: { miner_id: string; [k: string]: unknown }[];
    totals: Record<string, { count: number; amount_micros: number }>;
  };
}

/** The reward rows a payout account's Ledger holds for one miner: what the report must add up. */
const storedRewards = (customerId: string, minerId: string) =>
  runInDurableObject(ledger(customerId), (_instance, state) =>
    state.storage.sql.exec<{ n: number; micros: number }>("SELECT COUNT(*) AS n, COALESCE(SUM(amount_micros), 0) AS micros FROM rewards WHERE miner_id = ?", minerId).one(),
  );

describe("the admin's rewards report", () => {
  freezeSessionAlarms();

  it("shows each miner's payout account, stake multiplier, rewards and slashes after rewarded tasks, exactly as stored", async () => {
    const { model, ids } = await minersFor(["fastA", "fastB", "wrong"]);
    const accounts: Record<string, { id: string; key: string }> = {};
    for (const name of ["fastA", "fastB", "wrong"] as const) {
      accounts[name] = await account();
      expect((await admin(`/api/v1/admin/miners/${ids[name]}`, "PATCH", { payout_account: accounts[name]!.id })).status).toBe(200);
    }
    // `wrong` stakes 5.0 for 30 days (the default tiers' 1.5); the slashes below leave 3.645, 2.645 above the 1.0 minimum
    // of the 10.0 that earn the whole tier: 1 + 0.5 × 0.2645 = 1.1323 (domain/wallet/stake-weight.ts).
    const staked = await call("/neuroshard/api/v1/wallet/stake", { method: "POST", key: accounts.wrong!.key, json: { amount: 5, duration_days: 30 } });
    expect(staked.status).toBe(200);
    // A miner with no payout account: listed, earning nothing.
    const { ids: idle } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model, redundancy: 3 });

    const tasks = [];
    for (let i = 0; i < 3; i++) tasks.push(await complete(sessionId, SLASHING));
    expect(await flushReports(sessionId)).toBe(true);

    const r = await report(SLASHING);
    expect(r.currency).toBe("USD");
    expect(r.settings).toEqual({ reward_share_bps: 2000, reward_micros_per_token: 1, slash_share_bps: 1000, slash_majority_bps: 6500 });
    const row = (id: string) => r.miners.find((m) => m.miner_id === id);

    // Per token, split between the two agreeing miners: together they got every task's completion tokens.
    const pool = tasks.reduce((sum, t) => sum + t.usage.completion_tokens, 0);
    expect(pool).toBeGreaterThan(0);
    let paid = 0;
    for (const name of ["fastA", "fastB"] as const) {
      const stored = await storedRewards(accounts[name]!.id, ids[name]!);
      expect(stored.n).toBe(3);
      paid += stored.micros;
      expect(row(ids[name]!)).toEqual({
        miner_id: ids[name],
        name: ids[name],
        payout_account: accounts[name]!.id,
        account_exists: true,
        stake_multiplier: 1,
        multiplier_refreshed_at: expect.any(String),
        rewards: { count: 3, amount_micros: stored.micros },
        held: { count: 0, amount_micros: 0 },
        slashes: { count: 0, amount_micros: 0 },
      });
    }
    expect(paid).toBe(pool);
    // Outvoted three times: 10 % of 5.0, then of 4.5, then of 4.05.
    expect(row(ids.wrong!)).toMatchObject({
      payout_account: accounts.wrong!.id,
      stake_multiplier: 1.1323,
      rewards: { count: 0, amount_micros: 0 },
      slashes: { count: 3, amount_micros: 500_000 + 450_000 + 405_000 },
    });
    const balance = (await (await call("/neuroshard/api/v1/wallet/balance", { key: accounts.wrong!.key })).json()) as { balances: { staked: number } };
    expect(balance.balances.staked).toBe(3.645);
    expect(row(idle.fastA!)).toMatchObject({
      payout_account: null,
      account_exists: null,
      stake_multiplier: 1,
      multiplier_refreshed_at: null,
      rewards: { count: 0, amount_micros: 0 },
      slashes: { count: 0, amount_micros: 0 },
    });
    // The totals add up every listed miner.
    const sum = (k: "rewards" | "slashes") => r.miners.reduce((t, m) => t + (m[k] as { amount_micros: number }).amount_micros, 0);
    expect(r.totals["rewards"]?.amount_micros).toBe(sum("rewards"));
    expect(r.totals["slashes"]?.amount_micros).toBe(sum("slashes"));
  });

  it("counts the rewards held for a payout account whose customer does not exist yet", async () => {
    const { model, ids } = await minersFor(["fastA", "fastB"]);
    const future = uniq("future");
    // Set behind the admin route's check, as for a miner registered before its customer: the registry takes any name.
    await env.MINERS.get(env.MINERS.idFromName("registry")).updateMiner(ids.fastA!, { payout_account: future });
    const sessionId = await createSession({ model, redundancy: 2 });
    const task = await complete(sessionId, {});
    await flushReports(sessionId);
    const row = (await report()).miners.find((m) => m.miner_id === ids.fastA);
    const stored = await storedRewards(future, ids.fastA!);
    expect(stored.n).toBe(1);
    expect(stored.micros).toBeGreaterThan(0);
    expect(stored.micros).toBeLessThanOrEqual(task.usage.completion_tokens);
    expect(row).toMatchObject({ payout_account: future, account_exists: false, rewards: { count: 0, amount_micros: 0 }, held: { count: 1, amount_micros: stored.micros } });
  });

  it("is the admin's: refused without the admin key", async () => {
    expect((await call("/api/v1/admin/rewards")).status).toBe(401);
    expect((await call("/api/v1/admin/rewards", { key: TEST_ROUTER_KEY })).status).toBe(401);
  });
});
