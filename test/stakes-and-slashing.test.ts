import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { selectMiners } from "../domain/miners/select-miners";
import { admin, call, createSession, fetchWorker, minersFor, mulberry32, uniq, until } from "./helpers";
import { TEST_ROUTER_KEY } from "./keys";
import { flushReports, freezeSessionAlarms } from "./report-flush";

const registry = () => env.MINERS.get(env.MINERS.idFromName("registry"));
const wallet = "/neuroshard/api/v1/wallet";

/** A payout account with 10.0 available and a customer key to its wallet. */
async function account(): Promise<{ id: string; key: string }> {
  const id = uniq("operator");
  expect((await admin("/v1/admin/customers", "POST", { id, name: id, balance_micros: 10_000_000 })).status).toBe(201);
  const key = ((await (await admin(`/v1/admin/customers/${id}/keys`, "POST", { scopes: ["wallet:read", "wallet:move"] })).json()) as { key: string }).key;
  return { id, key };
}

async function stake(key: string, amount: number, days: number) {
  const res = await call(`${wallet}/stake`, { method: "POST", key, json: { amount, duration_days: days } });
  expect(res.status, await res.clone().text()).toBe(200);
}

type Balance = { balances: { available: number; staked: number } };
const balanceOf = async (key: string) => (await (await call(`${wallet}/balance`, { key })).json()) as Balance;
type Transactions = { transactions: { type: string; amount: number; details: Record<string, unknown> }[] };
const transactionsOf = async (key: string) => (await (await call(`${wallet}/transactions?limit=100`, { key })).json()) as Transactions;

/** fastA and fastB agree; `wrong` always answers otherwise. Each pays out to an account of its own, `wrong`'s with 5.0 staked. */
async function outvotedSession() {
  const { model, ids } = await minersFor(["fastA", "fastB", "wrong"]);
  const accounts: Record<string, { id: string; key: string }> = {};
  for (const name of ["fastA", "fastB", "wrong"] as const) {
    accounts[name] = await account();
    expect((await admin(`/api/v1/admin/miners/${ids[name]}`, "PATCH", { payout_account: accounts[name]!.id })).status).toBe(200);
  }
  await stake(accounts.wrong!.key, 5, 30);
  return { sessionId: await createSession({ model, redundancy: 3 }), accounts };
}

/** A completion through the Worker under `vars` (slashing settings travel with the task to its session). */
async function complete(sessionId: number, vars: Record<string, string> = {}) {
  const request = new Request(`http://router.test/api/v1/completions/${sessionId}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_ROUTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ prompt: uniq("slash me") }),
  });
  const { response } = await fetchWorker(request, vars);
  expect(response.status).toBe(200);
  return (await response.json()) as { task_id: number };
}

describe("slashing", () => {
  freezeSessionAlarms();

  it("takes the configured share of an outvoted miner's stake once per task, when on; the agreeing miners lose nothing", async () => {
    const { sessionId, accounts } = await outvotedSession();
    const on = { MINER_SLASH_SHARE_BPS: "1000" };
    const first = await complete(sessionId, on);
    expect(await flushReports(sessionId)).toBe(true);
    // 10 % of 5.0.
    expect((await balanceOf(accounts.wrong!.key)).balances).toMatchObject({ available: 5, staked: 4.5 });
    const slashes = (await transactionsOf(accounts.wrong!.key)).transactions.filter((t) => t.type === "slash");
    expect(slashes).toEqual([expect.objectContaining({ amount: -0.5, details: { share_bps: 1000 } })]);
    expect((await transactionsOf(accounts.wrong!.key)).transactions.filter((t) => t.type === "reward")).toEqual([]);

    // The alarm run again credits and takes nothing more; a second outvote takes 10 % of what is left.
    await flushReports(sessionId);
    expect((await balanceOf(accounts.wrong!.key)).balances.staked).toBe(4.5);
    const second = await complete(sessionId, on);
    expect(second.task_id).not.toBe(first.task_id);
    await flushReports(sessionId);
    expect((await balanceOf(accounts.wrong!.key)).balances.staked).toBe(4.05);

    // Rewards and slashes keep the books: every account's holdings equal its inflows less its outflows.
    const books = (await (await admin("/api/v1/admin/ledger/conservation", "GET")).json()) as { holds: boolean; unbalanced_accounts: string[] };
    expect(books).toMatchObject({ holds: true, unbalanced_accounts: [] });

    for (const name of ["fastA", "fastB"]) {
      const listed = (await transactionsOf(accounts[name]!.key)).transactions;
      expect(listed.filter((t) => t.type === "slash")).toEqual([]);
      expect(listed.filter((t) => t.type === "reward").map((t) => t.details.proof_id)).toEqual([`proof_${sessionId}_${second.task_id}`, `proof_${sessionId}_${first.task_id}`]);
    }
  });

  it("takes nothing with slashing off (the default), nor where the majority is not clear enough", async () => {
    const { sessionId, accounts } = await outvotedSession();
    await complete(sessionId);
    // Two of three answers agree (6667 bps): not clear enough for a 7000 bps threshold.
    await complete(sessionId, { MINER_SLASH_SHARE_BPS: "1000", MINER_SLASH_MAJORITY_BPS: "7000" });
    await flushReports(sessionId);
    expect((await balanceOf(accounts.wrong!.key)).balances).toMatchObject({ available: 5, staked: 5 });
    expect((await transactionsOf(accounts.wrong!.key)).transactions.filter((t) => t.type === "slash")).toEqual([]);
  });
});

describe("stake-weighted selection", () => {
  it("chooses a miner whose payout account has stake more often, by its multiplier, and still the other", async () => {
    const { model, ids } = await minersFor(["fastA", "fastB"]);
    const plain = await account();
    const staked = await account();
    await admin(`/api/v1/admin/miners/${ids.fastA}`, "PATCH", { payout_account: plain.id });
    await admin(`/api/v1/admin/miners/${ids.fastB}`, "PATCH", { payout_account: staked.id });
    // 5.0 for 30 days, the default tier's 1.5 (WALLET_STAKE_MULTIPLIERS), behind one miner: 4.0 above the
    // 1.0 minimum of the 10.0 that earn the whole tier, so 1 + 0.5 × 0.4 = 1.2 (domain/wallet/stake-weight.ts).
    await stake(staked.key, 5, 30);
    // What the cron does every 2 minutes: the registry reads each payout account's stake.
    expect(await registry().refreshStakes()).toMatchObject({ [plain.id]: 1, [staked.id]: 1.2 });

    const candidates = await registry().candidates(model);
    expect(Object.fromEntries(candidates.map((c) => [c.id, c.stakeMultiplier]))).toEqual({ [ids.fastA!]: 1, [ids.fastB!]: 1.2 });
    expect(candidates[0]!.reputation).toBe(candidates[1]!.reputation);

    const random = mulberry32(20261130);
    const picks = { [ids.fastA!]: 0, [ids.fastB!]: 0 };
    for (let i = 0; i < 20_000; i++) picks[selectMiners(candidates, 1, random)[0]!.id]!++;
    const ratio = picks[ids.fastB!]! / picks[ids.fastA!]!;
    expect(ratio).toBeGreaterThan(1.12);
    expect(ratio).toBeLessThan(1.28);
  });

  it("counts a new stake in selection without waiting for the registry's refresh: the Ledger pushes it", async () => {
    const { model, ids } = await minersFor(["fastA"]);
    const operator = await account();
    await admin(`/api/v1/admin/miners/${ids.fastA}`, "PATCH", { payout_account: operator.id });
    expect((await registry().candidates(model))[0]!.stakeMultiplier).toBe(1);
    await stake(operator.key, 5, 30);
    const pushed = await until(async () => {
      const m = (await registry().candidates(model))[0]!.stakeMultiplier;
      return m !== 1 && m;
    });
    expect(pushed).toBe(1.2);
  });

  it("keeps a multiplier pushed by a Ledger, and an account's last one when its Ledger cannot be read", async () => {
    const { model, ids } = await minersFor(["fastA"]);
    const operator = await account();
    await admin(`/api/v1/admin/miners/${ids.fastA}`, "PATCH", { payout_account: operator.id });
    // 11.0 at the 90-day tier (2): 10.0 above the minimum, the whole tier.
    await registry().setAccountStake(operator.id, { stakedMicros: 11_000_000, tierBps: 20_000 });
    expect((await registry().candidates(model))[0]!.stakeMultiplier).toBe(2);
    // Read again from the Ledger, which has no stake: 1.
    expect(await registry().refreshStakes([operator.id])).toEqual({ [operator.id]: 1 });
    expect((await registry().candidates(model))[0]!.stakeMultiplier).toBe(1);
  });
});
