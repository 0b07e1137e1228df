import { z } from "@hono/zod-openapi";

const micros = z.number().int();
/** How many entries, and their sum in integer micros. */
const Tally = z.object({ count: z.number().int(), amount_micros: micros });

export const MinerRewardsSchema = z.object({
  miner_id: z.string(),
  name: z.string(),
  /** The gateway customer its rewards are credited to; null: it earns nothing. */
  payout_account: z.string().nullable(),
  /** Whether that customer exists (its rewards are held until it does); null without a payout account. */
  account_exists: z.boolean().nullable(),
  /** What selection multiplies its weight by: the registry's kept value of its payout account's stake multiplier (1 without one). */
  stake_multiplier: z.number(),
  /** When the registry last read or was told that multiplier; null: never. */
  multiplier_refreshed_at: z.string().nullable(),
  /** Rewards credited to its payout account, each naming one task. */
  rewards: Tally,
  /** Rewards its payout account's Ledger holds for a customer not created yet. */
  held: Tally,
  /** Slashes taken from its payout account's stake for its outvoted results (a slash of an empty stake takes 0). */
  slashes: Tally,
});

export const RewardsReportSchema = z
  .object({
    /** The currency the ledger's micros are millionths of (LEDGER_CURRENCY). */
    currency: z.string(),
    /** The reward and slashing settings in force on this deployment. */
    settings: z.object({
      reward_share_bps: z.number().int(),
      reward_micros_per_token: z.number().int(),
      slash_share_bps: z.number().int(),
      slash_majority_bps: z.number().int(),
    }),
    /** Every registered miner, in the miners' listing order; figures are those of its current payout account. */
    miners: z.array(MinerRewardsSchema),
    totals: z.object({ rewards: Tally, held: Tally, slashes: Tally }),
    /**
     * The emission pool paying tasks nobody paid for (router key, trial, A2A, MCP, chain): its daily budget
     * (MINER_EMISSION_BUDGET_MICROS), the per-task cap, what it issued today (UTC) and whether it is spent
     * (then such tasks earn nothing until the next day). Billed tasks (gateway, x402) are paid from their bill.
     */
    emission: z.object({
      pool: z.string(),
      budget_micros_per_day: micros,
      max_micros_per_task: micros,
      issued_today_micros: micros,
      exhausted: z.boolean(),
      note: z.string(),
    }),
  })
  .openapi("MinerRewardsReport");
export type RewardsReport = z.infer<typeof RewardsReportSchema>;
export type MinerRewards = z.infer<typeof MinerRewardsSchema>;
