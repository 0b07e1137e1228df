import type { Sql } from "../sqlite-object";

/**
 * The kinds of balance change the journal records (rewards and usage
 * charges have tables of their own). Deltas are signed micros of the
 * account's three parts: `available` (customer.balance_micros), `staked`
 * and `pending` (unstaked, in cooldown).
 */
/** `settle`: earnings that left the account for a RewardDistributor (wallet/settlements.ts), settled on chain. */
export type JournalType = "credit" | "send" | "receive" | "stake" | "unstake" | "release" | "slash" | "settle";

export type JournalEntry = {
  type: JournalType;
  /** What makes the entry once-only within its type (a transfer id, a slash key); null: no such key. */
  ref: string | null;
  available_micros?: number;
  staked_micros?: number;
  pending_micros?: number;
  counterparty?: string | null;
  memo?: string | null;
  details?: Record<string, string | number | null>;
  at: number;
};

export type JournalRow = Required<Omit<JournalEntry, "details">> & { id: number; details: string | null };

/**
 * Writes one entry and applies its available delta to the balance, unless
 * an entry of the same type and ref exists (then false, nothing changed).
 * Callers hold the storage transaction the entry belongs to.
 */
export function journal(sql: Sql, e: JournalEntry): boolean {
  const available = e.available_micros ?? 0;
  const inserted = sql`INSERT INTO journal (type, ref, available_micros, staked_micros, pending_micros, counterparty, memo, details, at)
    VALUES (${e.type}, ${e.ref}, ${available}, ${e.staked_micros ?? 0}, ${e.pending_micros ?? 0}, ${e.counterparty ?? null}, ${e.memo ?? null},
            ${e.details ? JSON.stringify(e.details) : null}, ${e.at})
    ON CONFLICT (type, ref) DO NOTHING RETURNING id`;
  if (inserted.length === 0) return false;
  if (available !== 0) sql`UPDATE customer SET balance_micros = balance_micros + ${available} WHERE id = 1`;
  return true;
}

export const journalEntry = (sql: Sql, type: JournalType, ref: string) => sql<JournalRow>`SELECT * FROM journal WHERE type = ${type} AND ref = ${ref}`[0];
