import type { MinerEarnings } from "../../durable-objects/wallet/miner-earnings";
import { loadConfig } from "../../domain/config/config";
import type { Env } from "../env";
import type { MinerRewards, RewardsReport } from "../../domain/schemas/rewards-report";
import { sixAtATime } from "../../domain/net/six-at-a-time";
import { ledgerStub, registryStub } from "../../domain/objects/stubs";
import { periodOf, sourceAccount } from "../../domain/rewards/reward-sources";

type Account = { exists: boolean; miners: MinerEarnings[] };
type Tally = MinerRewards["rewards"];

const tally = (count: number, amount_micros: number): Tally => ({ count, amount_micros });
const add = (a: Tally, b: Tally): Tally => tally(a.count + b.count, a.amount_micros + b.amount_micros);

/**
 * Each registered miner's payout account, the stake multiplier selection
 * uses for it, and what it earned into and lost from that account: read
 * from the registry and from each payout account's Ledger (once per
 * account, six at a time). A miner's rewards paid into an account it no
 * longer pays out to are not counted here (they stay in that account).
 */
export async function rewardsReport(env: Env): Promise<RewardsReport> {
  const config = loadConfig(env);
  const payouts = await registryStub(env).payouts();
  const names = [...new Set(payouts.flatMap((p) => (p.payout_account ? [p.payout_account] : [])))];
  const accounts = new Map<string, Account>();
  const read = await sixAtATime(names, async (name) => [name, await ledgerStub(env, name).minerEarnings()] as const);
  for (const [name, a] of read) accounts.set(name, a);
  const miners = payouts.map((p): MinerRewards => {
    const account = p.payout_account ? accounts.get(p.payout_account) : undefined;
    const e = account?.miners.find((m) => m.miner_id === p.miner_id);
    return {
      miner_id: p.miner_id,
      name: p.name,
      payout_account: p.payout_account,
      account_exists: account ? account.exists : null,
      stake_multiplier: p.stake_multiplier,
      multiplier_refreshed_at: p.multiplier_refreshed_at === null ? null : new Date(p.multiplier_refreshed_at).toISOString(),
      rewards: tally(e?.rewards ?? 0, e?.reward_micros ?? 0),
      held: tally(e?.held ?? 0, e?.held_micros ?? 0),
      slashes: tally(e?.slashes ?? 0, e?.slashed_micros ?? 0),
    };
  });
  const zero = tally(0, 0);
  const { pool, budgetMicros } = config.rewards.emission;
  const today = (await ledgerStub(env, sourceAccount(pool)).sourceFigures())?.today;
  const issuedToday = today && today.period === periodOf(Date.now()) ? today.issued_micros : 0;
  const exhausted = issuedToday >= budgetMicros;
  return {
    currency: config.wallet.currency,
    settings: {
      reward_share_bps: config.rewards.shareBps,
      reward_micros_per_token: config.rewards.microsPerToken,
      slash_share_bps: config.rewards.slashShareBps,
      slash_majority_bps: config.rewards.slashMajorityBps,
    },
    miners,
    totals: {
      rewards: miners.reduce((t, m) => add(t, m.rewards), zero),
      held: miners.reduce((t, m) => add(t, m.held), zero),
      slashes: miners.reduce((t, m) => add(t, m.slashes), zero),
    },
    emission: {
      pool,
      budget_micros_per_day: budgetMicros,
      max_micros_per_task: config.rewards.maxMicrosPerTask,
      issued_today_micros: issuedToday,
      exhausted,
      note: exhausted
        ? "the emission pool's budget for today is spent: tasks nobody paid for (router key, trial, A2A, MCP, chain) earn nothing until the next UTC day"
        : "tasks nobody paid for are rewarded from the emission pool, within its daily budget and the per-task cap",
    },
  };
}
