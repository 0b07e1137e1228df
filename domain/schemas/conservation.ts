import { z } from "@hono/zod-openapi";

const micros = z.number().int();

/** One source account's figures (domain/rewards/reward-sources.ts). */
export const SourceTotalsSchema = z.object({
  /** Its name: `admin`, `x402`, `charges`, or the emission pool's (MINER_EMISSION_POOL). */
  source: z.string(),
  kind: z.enum(["payment", "x402", "charges", "emission"]),
  /** What backs it: x402 and charges, what the rewarded tasks brought in; payment and emission, their issues (a payment is money paid in; an emission is bounded by each day's budget, see `overdrawn`). */
  funded_micros: micros,
  /** What it issued to accounts. */
  issued_micros: micros,
  /** What the accounts show as credited from it. */
  credited_micros: micros,
  /** issued − credited: on its way (held rewards for an account not created yet, a credit not yet written). */
  in_flight_micros: micros,
  /** Tasks or days where it issued more than funded it (empty when all is well). */
  overdrawn: z.array(z.string()),
});
export type SourceTotals = z.infer<typeof SourceTotalsSchema>;

/** An account holding more from a source than the source issued to it. */
export const UnbackedSchema = z.object({ account: z.string(), source: z.string(), credited_micros: micros, issued_micros: micros });
export type Unbacked = z.infer<typeof UnbackedSchema>;

/**
 * Settled = sealed ≥ posted ≥ claimed: each address's amount in the last sealed epoch is exactly what the
 * accounts settled (moved out of the ledger) for it, the last posted epoch's amounts are at most that, its
 * root on chain is the root of those amounts, no address claimed more than posted, and the token's supply
 * is what the distributor paid out.
 */
export const ClaimsConservationSchema = z.object({
  holds: z.boolean(),
  /** The last posted epoch (null: none yet). */
  epoch: z.number().int().nullable(),
  posted_micros: micros,
  /** What the accounts settled to this distributor, over every address. */
  settled_micros: micros,
  /** settled − posted: settled, in an epoch not posted yet. */
  unposted_settled_micros: micros,
  earned_micros: micros.openapi({ description: "What the ledger says the posted addresses' miners earned, now" }),
  claimed_micros: micros.nullable(),
  token_supply_micros: micros.nullable(),
  /** The stored amounts' root, the stored root and the chain's root for the epoch are one. */
  root_matches: z.boolean().nullable(),
  /** Addresses posted more than the accounts settled for them: tokens without a debit. */
  over_posted: z.array(z.string()),
  /** Addresses whose amount in the last sealed epoch is not what the accounts settled for them. */
  unmatched: z.array(z.string()),
  /** Addresses that claimed more than posted. */
  over_claimed: z.array(z.string()),
  /** Why the chain could not be read, if it could not (then `holds` is false). */
  chain_error: z.string().nullable(),
});
export type ClaimsConservation = z.infer<typeof ClaimsConservationSchema>;

export const ConservationSchema = z
  .object({
    /** Every figure below adds up: within the accounts, and against the sources. */
    holds: z.boolean(),
    /** Accounts in the directory, each read. */
    accounts: z.number().int(),
    /** available + staked + pending + in_flight + fees + slashed + settled, over all accounts. */
    held_micros: micros,
    /** credits + rewards − charges, over all accounts. */
    issued_micros: micros,
    /** Every delivered transfer was received: sent − in_flight = received. */
    transfers_match: z.boolean(),
    totals_micros: z.object({
      available: micros,
      staked: micros,
      pending: micros,
      credits: micros,
      rewards: micros,
      received: micros,
      charges: micros,
      sent: micros,
      fees: micros,
      slashed: micros,
      settled: micros.describe("earnings that left their payout account for the RewardDistributor (claimable on chain)"),
      in_flight: micros,
    }),
    /** Accounts whose own holdings differ from their inflows less outflows, or whose figures could not be read exactly (past 2^53 - 1). */
    unbalanced_accounts: z.array(z.string()),
    /** Listed accounts whose Ledger holds no customer (should never happen). */
    missing_accounts: z.array(z.string()),
    /** credits + rewards = paid_in + emitted − sources_in_flight + legacy, and no account holds more from a source than it issued. */
    sources_match: z.boolean(),
    /** Issued from what customers paid: their payments (admin credits, opening balances), and the miners' shares of x402 payments and of customers' charges. */
    paid_in_micros: micros,
    /** Issued by the emission pools: rewards for work nobody paid for, within their budgets. */
    emitted_micros: micros,
    /** paid_in + emitted: everything the sources issued. */
    issued_by_sources_micros: micros,
    by_source_micros: z.object({
      payments: micros,
      x402: micros,
      charges: micros,
      emitted: micros,
      legacy: micros.describe("credits and rewards from before sources, naming none"),
    }),
    /** Issued by the sources, not yet shown by the accounts. */
    sources_in_flight_micros: micros,
    /** Prepaid customers' charges the router kept (charges less the miners' shares paid from them). */
    charges_kept_micros: micros,
    sources: z.array(SourceTotalsSchema),
    /** Whether every figure shown is within 2^53 − 1, so exact as a JSON number (sums over many accounts can pass it; `holds` is decided on exact BigInt sums either way). */
    figures_exact: z.boolean(),
    /** Accounts holding more from a source than it issued to them: money from nowhere. */
    unbacked_accounts: z.array(UnbackedSchema),
    /** Sources that issued more than funded them. */
    overdrawn_sources: z.array(z.string()),
    /** The ledger against the RewardDistributor (null: no CHAIN_REWARD_DISTRIBUTOR_ADDRESS); `holds` requires it to hold. */
    claims: ClaimsConservationSchema.nullable(),
  })
  .openapi("LedgerConservation");
export type Conservation = z.infer<typeof ConservationSchema>;
