import { ApiError, type Failure } from "../errors.ts";
import { type KeyScope, missingScope } from "./key-scopes.ts";

/**
 * What the gateway needs to know of a key to admit a request: who it is,
 * what it may use, its rate limits, and the spend and balance it answers to.
 * The Ledger reads it in one query; the isolate caches it (key-cache.ts).
 */
export type KeyState = {
  /** The Ledger's usage counter when this was read: a later state never yields to an earlier one. */
  version: number;
  key: {
    id: string;
    customerId: string;
    allowedModels: string[];
    requestsPerMinute: number;
    tokensPerMinute: number;
    spendLimitMicros: number | null;
    spentMicros: number;
    scopes: KeyScope[];
  };
  customer: { billing: "prepaid" | "postpaid"; balanceMicros: number };
};

/**
 * Whether a request for `model`, costing at most `estimateMicros`, may be
 * dispatched on this key: 403 without the `completions` scope or the model not allowed, 402 when the key's spend
 * limit or a prepaid balance would be exceeded. `pendingMicros` is what
 * requests already admitted but not yet billed may still cost; the Ledger
 * passes 0, an isolate its own reservations.
 */
export function admissionVerdict(state: KeyState, request: { model: string; estimateMicros: number }, pendingMicros = 0): Failure | null {
  const { key, customer } = state;
  const unscoped = missingScope(key.scopes, "completions");
  if (unscoped) return unscoped;
  if (!key.allowedModels.includes("*") && !key.allowedModels.includes(request.model)) {
    return new ApiError(403, "model_not_allowed", `this key may not use model ${request.model}`, { allowed_models: key.allowedModels }).toFailure();
  }
  if (key.spendLimitMicros !== null && key.spentMicros + pendingMicros + request.estimateMicros > key.spendLimitMicros) {
    return new ApiError(402, "spend_limit_reached", "this request could exceed the key's spend limit", {
      spend_limit_micros: key.spendLimitMicros,
      spent_micros: key.spentMicros,
      estimate_micros: request.estimateMicros,
    }).toFailure();
  }
  if (customer.billing === "prepaid" && customer.balanceMicros - pendingMicros < request.estimateMicros) {
    return new ApiError(402, "insufficient_balance", "the prepaid balance does not cover this request", {
      balance_micros: customer.balanceMicros,
      estimate_micros: request.estimateMicros,
    }).toFailure();
  }
  return null;
}
