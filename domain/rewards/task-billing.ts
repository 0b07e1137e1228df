import type { Price } from "../config/config.ts";
import { costMicros } from "../gateway/gateway-config.ts";

/**
 * What a task is billed, when that is known where it runs: the gateway's
 * price per token (its local pool; the usage is the completion's, the same
 * the gateway bills after the answer, workers/gateway/billing.ts) or an x402
 * payment's fixed amount. Carried with the task to its Session object, so
 * the miners' rewards are a share of it without a call to the Ledger.
 */
export type TaskBilling = { kind: "metered"; price: Price } | { kind: "paid"; micros: number };

export type TokenUsage = { prompt_tokens: number; completion_tokens: number };

/** Ledger micros the task was billed for this usage. */
export function billedMicros(billing: TaskBilling, usage: TokenUsage): number {
  return billing.kind === "paid" ? billing.micros : costMicros(billing.price, usage.prompt_tokens, usage.completion_tokens);
}

/** An x402 price ("$0.01") in ledger micros (millionths of a dollar); digits past the sixth are dropped. */
export function usdMicros(price: string): number {
  const [whole = "0", fraction = ""] = price.replace(/^\$/, "").split(".");
  return Number(whole) * 1_000_000 + Number(fraction.slice(0, 6).padEnd(6, "0"));
}

/**
 * Part `k` of `n` of one billing, for a request that runs `n` tasks on one
 * payment (factcheck's independent tasks): a paid amount is split evenly, the
 * micros left over to the first parts; a price per token stays per task.
 */
export function splitBilling(billing: TaskBilling, n: number, k: number): TaskBilling {
  if (billing.kind === "metered" || n <= 1) return billing;
  const base = Math.floor(billing.micros / n);
  return { kind: "paid", micros: base + (k < billing.micros - base * n ? 1 : 0) };
}
