import { z } from "@hono/zod-openapi";
import type { ErrorHandler } from "hono";
import { loadConfig } from "../../domain/config/config";
import type { AppEnv } from "../http/app-env";
import type { ApiError, ErrorDetails } from "../../domain/errors";
import { surfaceError } from "../http/surface-error";
import { toAmount } from "../../domain/wallet/amounts";

/**
 * The router's error codes the NeuroShard node API names otherwise; any
 * other code is the router's, upper-cased (`no_miners_available` →
 * `NO_MINERS_AVAILABLE`).
 */
const SEED_CODES: Record<string, string> = {
  unauthorized: "UNAUTHORIZED",
  invalid_api_key: "UNAUTHORIZED",
  rate_limited: "RATE_LIMITED",
  insufficient_balance: "INSUFFICIENT_BALANCE",
  invalid_request: "INVALID_REQUEST",
  not_found: "NOT_FOUND",
};

const num = (v: unknown) => (typeof v === "number" ? v : undefined);

/** An unknown field, named: the router's issues say `(body)` for it, the schema's error knows the key. */
function unknownField(e: ApiError): string | undefined {
  if (!(e.cause instanceof z.ZodError)) return undefined;
  const issue = e.cause.issues.find((i) => i.code === "unrecognized_keys");
  // Cut short like every field an error names (domain/errors.ts): a key may be any length.
  return issue && issue.code === "unrecognized_keys" ? [...issue.path.map(String), issue.keys[0] ?? ""].join(".").slice(0, 200) : undefined;
}

/** The details the seed names for its codes (`retry_after`; `required` and `available` in the ledger's currency); the router's own details otherwise, `field` first for a bad field. */
function seedDetails(e: ApiError, currency: string | undefined): ErrorDetails | undefined {
  const d = e.details;
  if (!d) return undefined;
  if (e.code === "insufficient_balance" || e.code === "insufficient_stake") {
    const required = num(d["estimate_micros"]);
    const available = num(d["balance_micros"]);
    return { required: required === undefined ? null : toAmount(required), available: available === undefined ? null : toAmount(available), ...(currency ? { currency } : {}) };
  }
  const issues = d["issues"];
  const first = Array.isArray(issues) ? issues[0] : undefined;
  if (first && typeof first === "object" && typeof first["field"] === "string") return { field: unknownField(e) ?? first["field"], ...d };
  return d;
}

/** An error in the node API's shape: `{"error": {"code", "message", "details"}}` with its codes; amounts in the ledger's `currency`. */
export function neuroShardError(e: ApiError, currency?: string) {
  const details = seedDetails(e, currency);
  return { error: { code: SEED_CODES[e.code] ?? e.code.toUpperCase(), message: e.message, ...(details ? { details } : {}) } };
}

/** The NeuroShard surface's error handler (its sub-app's `onError`). */
export const neuroShardErrorHandler: ErrorHandler<AppEnv> = function neuroShardErrorHandler(err, c) {
  const e = surfaceError(err);
  return c.json(neuroShardError(e, loadConfig(c.env).wallet.currency), e.status, e.headers);
};
