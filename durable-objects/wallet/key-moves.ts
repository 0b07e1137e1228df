import { type KeyScope, missingScope, parseStoredScopes } from "../../domain/gateway/key-scopes";
import { ApiError, type Failure } from "../../domain/errors";
import type { KeyRow } from "../ledger-schema";
import type { Sql } from "../sqlite-object";

/**
 * The key a wallet move is made with, as the authority on it: the Ledger's
 * own row, read inside the move's storage transaction (a gateway isolate's
 * cached state may be seconds old). It must exist, be unrevoked and hold
 * `wallet:move`; `spendMicros` (a send with its fee, a stake) counts against
 * its spend limit like billed usage (`chargeKeyMove`, in the same
 * transaction as the move). An unstake spends nothing (`spendMicros` 0).
 */
export function keyMoveRefused(sql: Sql, keyId: string, spendMicros: number): Failure | null {
  const row = sql<KeyRow>`SELECT * FROM keys WHERE id = ${keyId}`[0];
  if (!row || row.revoked_at !== null) return new ApiError(401, "invalid_api_key", "this API key has been revoked").toFailure();
  const scope: KeyScope = "wallet:move";
  const unscoped = missingScope(parseStoredScopes(row.scopes), scope);
  if (unscoped) return unscoped;
  if (row.spend_limit_micros !== null && row.spent_micros + spendMicros > row.spend_limit_micros) {
    return new ApiError(402, "spend_limit_reached", "this move would exceed the key's spend limit", {
      spend_limit_micros: row.spend_limit_micros,
      spent_micros: row.spent_micros,
      move_micros: spendMicros,
    }).toFailure();
  }
  return null;
}

/** Charges a move `keyMoveRefused` admitted to its key, in the move's transaction. */
export function chargeKeyMove(sql: Sql, keyId: string, spendMicros: number): void {
  if (spendMicros > 0) sql`UPDATE keys SET spent_micros = spent_micros + ${spendMicros} WHERE id = ${keyId}`;
}
