import type { StakeTier } from "../config/config.ts";

/**
 * The tier a lock of `days` earns: the longest configured duration not
 * longer than it (WALLET_STAKE_MULTIPLIERS); none below the shortest.
 * `tiers` are sorted longest first (config.wallet.stakeTiers).
 */
export function stakeTierFor(days: number, tiers: readonly StakeTier[]): StakeTier | undefined {
  return tiers.find((t) => t.days <= days);
}

export const multiplierOf = (bps: number) => bps / 10_000;
