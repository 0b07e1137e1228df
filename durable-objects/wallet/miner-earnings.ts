import type { Sql } from "../sqlite-object";

/**
 * What one miner earned into this account and lost from its stake, as the
 * admin's rewards report shows it (workers/rewards/rewards-report.ts). All
 * integer micros. `held`: rewards kept for a customer not created yet;
 * `settled`: what of the rewards left the account for a RewardDistributor
 * (wallet/settlements.ts), claimable on chain instead.
 */
export type MinerEarnings = {
  miner_id: string;
  rewards: number;
  reward_micros: number;
  held: number;
  held_micros: number;
  slashes: number;
  slashed_micros: number;
  settled_micros: number;
};

/** A slash's journal ref is its reward key, `<session>:<task>:<miner>` (domain/rewards/miner-rewards.ts). */
const SLASH_REF = /^\d+:\d+:(.+)$/;

/** Every miner that earned into or was slashed from this account, by miner id. */
export function minerEarnings(sql: Sql): MinerEarnings[] {
  const byMiner = new Map<string, MinerEarnings>();
  const of = (minerId: string) => {
    let e = byMiner.get(minerId);
    if (!e) {
      e = { miner_id: minerId, rewards: 0, reward_micros: 0, held: 0, held_micros: 0, slashes: 0, slashed_micros: 0, settled_micros: 0 };
      byMiner.set(minerId, e);
    }
    return e;
  };
  for (const r of sql<{ miner_id: string; credited: number; n: number; micros: number }>`
      SELECT miner_id, credited_at IS NOT NULL AS credited, COUNT(*) AS n, SUM(amount_micros) AS micros
      FROM rewards GROUP BY miner_id, credited_at IS NOT NULL`) {
    const e = of(r.miner_id);
    if (r.credited) {
      e.rewards += r.n;
      e.reward_micros += r.micros;
    } else {
      e.held += r.n;
      e.held_micros += r.micros;
    }
  }
  for (const s of sql<{ ref: string; staked_micros: number }>`SELECT ref, staked_micros FROM journal WHERE type = 'slash'`) {
    const minerId = SLASH_REF.exec(s.ref)?.[1];
    if (minerId === undefined) continue;
    const e = of(minerId);
    e.slashes += 1;
    e.slashed_micros += 0 - s.staked_micros;
  }
  for (const s of sql<{ miner_id: string; n: number }>`SELECT miner_id, SUM(amount_micros) AS n FROM settlements GROUP BY miner_id`) {
    of(s.miner_id).settled_micros += s.n;
  }
  return [...byMiner.values()];
}
