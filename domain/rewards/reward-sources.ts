import { mulDiv, MAX_MICROS } from "../wallet/safe-micros.ts";
import { billedMicros, type TaskBilling, type TokenUsage } from "./task-billing.ts";

/**
 * Money from declared sources only. Every credit in the ledger is issued by
 * a source account (`source:<name>`, a Ledger object holding no customer),
 * which records each issue once by its key and to which account it went,
 * so that the conservation check can match every account's credits and
 * rewards against what the sources say they issued:
 *
 *  - `payment` (source:admin): a customer's payment, recorded by the operator
 *    (an admin credit or a customer's opening balance);
 *  - `x402` (source:x402): an x402 payment's share for the task's miners;
 *  - `charges` (source:charges): a gateway task's share of what its customer
 *    was charged;
 *  - `emission` (source:<MINER_EMISSION_POOL>): the declared reward pool for
 *    work nobody paid for, with a daily budget.
 *
 * A source never issues more to one task than the task's fund (what it
 * brought in × MINER_REWARD_SHARE_BPS, or the per-task cap of the pool), nor
 * an emission pool more in a UTC day than its budget.
 */
export type SourceKind = "payment" | "x402" | "charges" | "emission";

export const ADMIN_SOURCE = "admin";
export const X402_SOURCE = "x402";
export const CHARGES_SOURCE = "charges";
/** Credits and rewards recorded before sources existed (no source named on them). */
export const LEGACY_SOURCE = "legacy";

/** The Ledger object (by customer id) a source's account lives in; ':' never appears in a customer id. */
export const sourceAccount = (name: string) => `source:${name}`;

export const DAY_MS = 86_400_000;
/** An emission pool's budget period: the UTC day of `now` (days since the epoch). */
export const periodOf = (now: number) => Math.floor(now / DAY_MS);

/** The emission pool's declaration (config.rewards.emission). */
export type EmissionPolicy = { pool: string; budgetMicros: number };

/** What funds one task's rewards: the source, the most its miners may share, what the task brought in, and the pool's daily budget (emission only). */
export type TaskFunding = { source: string; kind: SourceKind; fundMicros: number; paidMicros: number; budgetMicros: number | null };

/** The sharing and emission settings a task's funding is decided by (config.rewards). */
export type FundingPolicy = { shareBps: number; microsPerToken: number; maxMicrosPerTask: number; emission: EmissionPolicy };

/**
 * Where a committed task's rewards come from and how much they may total: a
 * billed task's share of its bill (x402's fixed price or the gateway's price
 * × usage), or, for a task nobody paid for, the per-token reward on its
 * completion tokens, capped per task, from the emission pool. Exact integer
 * micros (BigInt inside), never above 2^53 − 1.
 */
export function taskFunding(task: { usage: TokenUsage; billing?: TaskBilling | undefined }, policy: FundingPolicy): TaskFunding {
  if (task.billing) {
    const paidMicros = billedMicros(task.billing, task.usage);
    const source = task.billing.kind === "paid" ? X402_SOURCE : CHARGES_SOURCE;
    return { source, kind: source === X402_SOURCE ? "x402" : "charges", fundMicros: mulDiv(paidMicros, policy.shareBps, 10_000), paidMicros, budgetMicros: null };
  }
  const tokens = Number.isSafeInteger(task.usage.completion_tokens) && task.usage.completion_tokens > 0 ? task.usage.completion_tokens : 0;
  const perToken = mulDiv(tokens, policy.microsPerToken, 1);
  return {
    source: policy.emission.pool,
    kind: "emission",
    fundMicros: Math.min(perToken, policy.maxMicrosPerTask, MAX_MICROS),
    paidMicros: 0,
    budgetMicros: policy.emission.budgetMicros,
  };
}
