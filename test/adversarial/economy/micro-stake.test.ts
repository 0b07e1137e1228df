import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, call, createSession, fetchWorker, minersFor, uniq } from "../../helpers";
import { TEST_ROUTER_KEY } from "../../keys";
import { flushReports, freezeSessionAlarms } from "../../report-flush";

/**
 * Stake that costs nothing buys nothing: selection weighs the amount at risk
 * behind each miner (MINER_MIN_STAKE_MICROS 1.0 earns nothing, the tier in
 * full from 10.0 above it: the defaults), and a slash takes at least
 * MINER_SLASH_MIN_MICROS (0.1), capped by the stake.
 */
const registry = () => env.MINERS.get(env.MINERS.idFromName("registry"));
const wallet = "/neuroshard/api/v1/wallet";

/** A payout account with `balance` micros and a key to its wallet. */
async function account(balance = 20_000_000): Promise<{ id: string; key: string }> {
  const id = uniq("staker");
  expect((await admin("/v1/admin/customers", "POST", { id, name: id, balance_micros: balance })).status).toBe(201);
  return { id, key: ((await (await admin(`/v1/admin/customers/${id}/keys`, "POST", { scopes: ["wallet:read", "wallet:move"] })).json()) as { key: string }).key };
}

async function stake(key: string, amount: string, days: number) {
  const res = await call(`${wallet}/stake`, { method: "POST", key, json: { amount, duration_days: days } });
  expect(res.status, await res.clone().text()).toBe(200);
}

async function payTo(ids: (string | undefined)[], accountId: string) {
  for (const id of ids) expect((await admin(`/api/v1/admin/miners/${id}`, "PATCH", { payout_account: accountId })).status).toBe(200);
}

type RewardsRow = { miner_id: string; stake_multiplier: number };
const reportedMultiplier = async (minerId: string | undefined) =>
  ((await (await admin("/api/v1/admin/rewards", "GET")).json()) as { miners: RewardsRow[] }).miners.find((m) => m.miner_id === minerId)?.stake_multiplier;

describe("micro stakes", () => {
  it("earn no weight: a stake up to the minimum leaves the multiplier at exactly 1, however long the lock", async () => {
    const { model, ids } = await minersFor(["fastA", "fastB"]);
    const micro = await account();
    const minimum = await account();
    await payTo([ids.fastA], micro.id);
    await payTo([ids.fastB], minimum.id);
    await stake(micro.key, "0.000001", 365);
    await stake(minimum.key, "1", 365);
    expect(await registry().refreshStakes([micro.id, minimum.id])).toEqual({ [micro.id]: 1, [minimum.id]: 1 });
    const candidates = await registry().candidates(model);
    expect(Object.fromEntries(candidates.map((c) => [c.id, c.stakeMultiplier]))).toEqual({ [ids.fastA!]: 1, [ids.fastB!]: 1 });
    expect(await reportedMultiplier(ids.fastA)).toBe(1);
    expect(await reportedMultiplier(ids.fastB)).toBe(1);
  });

  it("weigh a stake divided among an account's miners: each gets its share's weight, less than one miner alone", async () => {
    const { model, ids } = await minersFor(["fastA", "fastB", "fastC", "spare"]);
    const alone = await account();
    const shared = await account();
    await payTo([ids.spare], alone.id);
    await payTo([ids.fastA, ids.fastB, ids.fastC], shared.id);
    // 6.0 for 365 days (tier 3, bonus 2) each. Alone: 5.0 above the minimum, half the full weight: 1 + 2 × 0.5 = 2.
    // Shared by three: 2.0 each, 1.0 above the minimum: 1 + 2 × 0.1 = 1.2.
    await stake(alone.key, "6", 365);
    await stake(shared.key, "6", 365);
    await registry().refreshStakes([alone.id, shared.id]);
    const byId = Object.fromEntries((await registry().candidates(model)).map((c) => [c.id, c.stakeMultiplier]));
    expect(byId).toEqual({ [ids.spare!]: 2, [ids.fastA!]: 1.2, [ids.fastB!]: 1.2, [ids.fastC!]: 1.2 });
    expect(await reportedMultiplier(ids.fastA)).toBe(1.2);
    // One of the three leaves the account: the other two now carry 3.0 each.
    await admin(`/api/v1/admin/miners/${ids.fastC}`, "PATCH", { payout_account: null });
    expect((await registry().candidates(model)).find((c) => c.id === ids.fastA)?.stakeMultiplier).toBe(1.4);
  });
});

describe("slashing a small stake", () => {
  freezeSessionAlarms();

  /** fastA and fastB agree, `wrong` is outvoted; `wrong` pays out to an account that staked `amount`. */
  async function outvoted(amount: string) {
    const { model, ids } = await minersFor(["fastA", "fastB", "wrong"]);
    const staker = await account();
    await payTo([ids.wrong], staker.id);
    await stake(staker.key, amount, 30);
    const sessionId = await createSession({ model, redundancy: 3 });
    const request = new Request(`http://router.test/api/v1/completions/${sessionId}`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_ROUTER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt: uniq("outvote me") }),
    });
    // 1 % of the stake, a share that rounds to nothing on a small stake.
    const { response } = await fetchWorker(request, { MINER_SLASH_SHARE_BPS: "100" });
    expect(response.status).toBe(200);
    expect(await flushReports(sessionId)).toBe(true);
    const balance = (await (await call(`${wallet}/balance`, { key: staker.key })).json()) as { balances: { staked: number } };
    const slashes = (
      (await (await call(`${wallet}/transactions?limit=100`, { key: staker.key })).json()) as { transactions: { type: string; amount: number }[] }
    ).transactions.filter((t) => t.type === "slash");
    return { staked: balance.balances.staked, slashes };
  }

  it("takes at least the minimum: 1 % of 2.0 is 0.02, the slash takes 0.1", async () => {
    const { staked, slashes } = await outvoted("2");
    expect(slashes).toEqual([expect.objectContaining({ amount: -0.1 })]);
    expect(staked).toBe(1.9);
  });

  it("takes the whole of a stake below the minimum: a 1-micro stake is not slashed by nothing", async () => {
    const { staked, slashes } = await outvoted("0.000001");
    expect(slashes).toEqual([expect.objectContaining({ amount: -0.000001 })]);
    expect(staked).toBe(0);
  });
});
