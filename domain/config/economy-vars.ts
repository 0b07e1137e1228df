import { z } from "zod";
import { json, parsed, type SectionContext, type VarsOf } from "./var-readers.ts";

/** WALLET_STAKE_MULTIPLIERS: lock days → selection-weight multiplier (at least 1, at most 4 decimals). */
const StakeMultipliersSchema = z
  .record(
    z.string().regex(/^[1-9]\d{0,3}$/, "keys are lock durations in whole days, 1-9999"),
    z
      .number()
      .min(1)
      .max(100)
      .refine((m) => Math.abs(m * 10_000 - Math.round(m * 10_000)) < 1e-6, "at most 4 decimals"),
  )
  .refine((table) => Object.keys(table).length > 0, "needs at least one duration")
  .default({ "7": 1.1, "30": 1.5, "90": 2, "365": 3 });

/** A stake tier: from `days` of lock, the multiplier in basis points (1.5 → 15000), so that storage holds integers. */
export type StakeTier = { days: number; multiplierBps: number };
const stakeTiersFrom = (table: Record<string, number>): StakeTier[] =>
  Object.entries(table)
    .map(([days, m]) => ({ days: Number(days), multiplierBps: Math.round(m * 10_000) }))
    .sort((a, b) => b.days - a.days);

/** The emission pool's daily budget outside production when MINER_EMISSION_BUDGET_MICROS is unset: 100 units. */
const DEV_EMISSION_BUDGET_MICROS = 100_000_000;

/** Money: the wallet, miner rewards and emission, slashing, and how stake weighs in selection. */
export const economyVars = {
  /**
   * The wallet (domain/wallet/): the stake multiplier by lock duration, `{"<days>": multiplier}` (a stake
   * of d days earns the multiplier of the longest listed duration up to d; shorter than the shortest is
   * refused), the cooldown an unstake waits before its amount is available again, and the fee a send pays
   * (ledger micros, burned: counted by the conservation check).
   */
  WALLET_STAKE_MULTIPLIERS: json(StakeMultipliersSchema, '{"7": 1.1, "30": 1.5, "90": 2, "365": 3}'),
  WALLET_UNSTAKE_COOLDOWN_DAYS: parsed(z.coerce.number<string>().int().min(0).max(365).default(7)),
  WALLET_SEND_FEE_MICROS: parsed(z.coerce.number<string>().int().min(0).max(1_000_000_000).default(0)),
  /** Wallet moves (send, stake, unstake) a customer key may make a minute, besides its requests_per_minute (which every wallet call counts against). */
  WALLET_MOVES_PER_MINUTE: parsed(z.coerce.number<string>().int().min(1).max(100_000).default(10)),
  /** The currency the ledger's micros are millionths of, as the wallet and the node API name it. */
  LEDGER_CURRENCY: parsed(
    z
      .string()
      .regex(/^[A-Z][A-Z0-9]{1,11}$/, "an upper-case currency code such as USD")
      .default("USD"),
  ),
  /**
   * Miner rewards (domain/rewards/miner-rewards.ts). A task whose price is known where it runs (the gateway's
   * local pool, x402 routes) pays its agreeing miners MINER_REWARD_SHARE_BPS of what it was billed (basis
   * points: 2000 = 20 %); any other task pays them MINER_REWARD_MICROS_PER_TOKEN ledger micros per completion
   * token of the chosen output. Either amount is split evenly among the agreeing miners; 0 turns that kind off.
   */
  MINER_REWARD_SHARE_BPS: parsed(z.coerce.number<string>().int().min(0).max(10_000).default(2000)),
  MINER_REWARD_MICROS_PER_TOKEN: parsed(z.coerce.number<string>().int().min(0).max(1_000_000).default(1)),
  /**
   * Money from declared sources only (domain/rewards/reward-sources.ts). The per-token reward of a task
   * nobody paid for (router key, trial, A2A, MCP, chain) is drawn from a declared emission pool, the account
   * `source:<MINER_EMISSION_POOL>`, which pays at most MINER_EMISSION_BUDGET_MICROS a UTC day over all
   * sessions (unset: 100 000 000 outside production, 0 in production: no emission unless declared) and at
   * most MINER_REWARD_MAX_MICROS_PER_TASK to one task's miners. A spent pool pays nothing until the next day.
   */
  MINER_EMISSION_BUDGET_MICROS: parsed(z.coerce.number<string>().int().min(0).max(Number.MAX_SAFE_INTEGER).optional()),
  MINER_EMISSION_POOL: parsed(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "lowercase letters, digits and '-', at most 40")
      .default("emission"),
  ),
  MINER_REWARD_MAX_MICROS_PER_TASK: parsed(z.coerce.number<string>().int().min(0).max(Number.MAX_SAFE_INTEGER).default(10_000)),
  /**
   * Slashing: a miner whose answered result was outvoted by a clear majority (the agreeing miners at least
   * MINER_SLASH_MAJORITY_BPS of the miners that answered) loses MINER_SLASH_SHARE_BPS of its payout account's
   * stake. 0 (the default) turns slashing off.
   */
  MINER_SLASH_SHARE_BPS: parsed(z.coerce.number<string>().int().min(0).max(10_000).default(0)),
  MINER_SLASH_MAJORITY_BPS: parsed(z.coerce.number<string>().int().min(5001).max(10_000).default(6500)),
  /** The least a slash takes (ledger micros), capped by the stake itself: a tiny stake is not slashed by nothing. */
  MINER_SLASH_MIN_MICROS: parsed(z.coerce.number<string>().int().min(0).max(Number.MAX_SAFE_INTEGER).default(100_000)),
  /**
   * Stake-weighted selection (domain/wallet/stake-weight.ts): a payout account's locked stake is divided
   * among the miners paying out to it; a miner's share up to MINER_MIN_STAKE_MICROS earns nothing, and the
   * stake tier's bonus grows linearly with the share above it, in full at MINER_STAKE_FULL_WEIGHT_MICROS above it.
   */
  MINER_MIN_STAKE_MICROS: parsed(z.coerce.number<string>().int().min(0).max(Number.MAX_SAFE_INTEGER).default(1_000_000)),
  MINER_STAKE_FULL_WEIGHT_MICROS: parsed(z.coerce.number<string>().int().min(1).max(Number.MAX_SAFE_INTEGER).default(10_000_000)),
};

export function economySection(e: VarsOf<typeof economyVars>, { production }: SectionContext) {
  return {
    /** Miner rewards and slashing (domain/rewards/). */
    rewards: {
      shareBps: e.MINER_REWARD_SHARE_BPS,
      microsPerToken: e.MINER_REWARD_MICROS_PER_TOKEN,
      maxMicrosPerTask: e.MINER_REWARD_MAX_MICROS_PER_TASK,
      emission: { pool: e.MINER_EMISSION_POOL, budgetMicros: e.MINER_EMISSION_BUDGET_MICROS ?? (production ? 0 : DEV_EMISSION_BUDGET_MICROS) },
      slashShareBps: e.MINER_SLASH_SHARE_BPS,
      slashMajorityBps: e.MINER_SLASH_MAJORITY_BPS,
    },
    /** The wallet's currency, stake multipliers (by days, longest first), unstake cooldown and send fee. */
    wallet: {
      currency: e.LEDGER_CURRENCY,
      stakeTiers: stakeTiersFrom(e.WALLET_STAKE_MULTIPLIERS),
      unstakeCooldownDays: e.WALLET_UNSTAKE_COOLDOWN_DAYS,
      sendFeeMicros: e.WALLET_SEND_FEE_MICROS,
      movesPerMinute: e.WALLET_MOVES_PER_MINUTE,
    },
    /** How stake weighs in selection, and the least a slash takes (domain/wallet/stake-weight.ts). */
    stakeWeight: {
      minStakeMicros: e.MINER_MIN_STAKE_MICROS,
      fullWeightMicros: e.MINER_STAKE_FULL_WEIGHT_MICROS,
      slashMinMicros: e.MINER_SLASH_MIN_MICROS,
    },
  };
}
