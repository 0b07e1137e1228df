import { z } from "@hono/zod-openapi";
import { ApiError, type Failure } from "../errors.ts";

/**
 * What a customer key may do, beyond its model, rate and spend limits:
 * `completions` (the gateway's completion routes and the node's inference),
 * `wallet:read` (balance, transactions), `wallet:move` (send, stake,
 * unstake: money leaves the available balance). A key moves money only when
 * granted `wallet:move`.
 */
export const KEY_SCOPES = ["completions", "wallet:read", "wallet:move"] as const;
export const KeyScopeSchema = z.enum(KEY_SCOPES);
export type KeyScope = z.infer<typeof KeyScopeSchema>;

/** A new key's scopes unless the admin names others: it can work and read its wallet, not move money. */
export const DEFAULT_KEY_SCOPES: KeyScope[] = ["completions", "wallet:read"];

/** Scopes as the admin API takes them: at least one, each once, kept in KEY_SCOPES order. */
export const KeyScopesSchema = z
  .array(KeyScopeSchema)
  .min(1)
  .transform((scopes) => KEY_SCOPES.filter((s) => scopes.includes(s)))
  .openapi({ description: `what the key may do: ${KEY_SCOPES.join(", ")} (default ${DEFAULT_KEY_SCOPES.join(", ")}: no wallet:move, so no money moves)` });

/** Scopes as stored (the Ledger's keys.scopes, JSON). */
export const parseStoredScopes = (json: string): KeyScope[] => z.array(KeyScopeSchema).parse(JSON.parse(json));

/** 403 naming the scope a key lacks; null when it has it. */
export function missingScope(scopes: readonly KeyScope[], needed: KeyScope): Failure | null {
  if (scopes.includes(needed)) return null;
  return new ApiError(403, "scope_missing", `this key lacks the scope ${needed}`, { required_scope: needed, scopes: [...scopes] }).toFailure();
}
