/** A payout account's stake as selection weighs it: the locked amount and its duration tier (basis points; 0 or 10000: none). */
export type AccountStake = { stakedMicros: number; tierBps: number };

/** MINER_MIN_STAKE_MICROS and MINER_STAKE_FULL_WEIGHT_MICROS (config.stakeWeight). */
export type StakeWeightPolicy = { minStakeMicros: number; fullWeightMicros: number };

/**
 * The selection multiplier of each of the `miners` paying out to an account
 * with `stake`:
 *
 *   share = staked / miners
 *   multiplier = 1 + (tier − 1) × min(1, max(0, share − MIN) / FULL)
 *
 * Monotone in the amount, never above the tier's multiplier, exactly 1 for a
 * share up to the minimum, and a stake split across N miners weighs each as
 * 1/N of it: what counts is the amount at risk behind each miner, not that a
 * stake exists. Rounded to 4 decimals (what the tiers are written in).
 */
export function minerStakeMultiplier(stake: AccountStake, miners: number, policy: StakeWeightPolicy): number {
  const bonus = Math.max(0, stake.tierBps / 10_000 - 1);
  if (bonus === 0 || stake.stakedMicros <= 0) return 1;
  const share = stake.stakedMicros / Math.max(1, miners);
  const filled = Math.min(1, Math.max(0, share - policy.minStakeMicros) / Math.max(1, policy.fullWeightMicros));
  return Math.round((1 + bonus * filled) * 10_000) / 10_000;
}

/**
 * What a slash of `shareBps` takes from `stakedMicros`: the share (rounded
 * down), but at least `minMicros`, and never more than the stake. Nothing
 * with slashing off (`shareBps` 0).
 */
export function slashAmount(stakedMicros: number, shareBps: number, minMicros: number): number {
  if (shareBps <= 0 || stakedMicros <= 0) return 0;
  return Math.min(stakedMicros, Math.max(Math.floor((stakedMicros * shareBps) / 10_000), minMicros));
}
