import type { Sql } from "../sqlite-object";
import { journal } from "./journal";

/** A delivery that failed is tried again after this, doubling up to the cap. */
const RETRY_MS = 5_000;
const MAX_RETRY_MS = 10 * 60_000;

export type TransferRow = {
  id: string;
  idempotency_key: string | null;
  to_account: string;
  amount_micros: number;
  fee_micros: number;
  memo: string;
  created_at: number;
  delivered_at: number | null;
  attempts: number;
  next_attempt_at: number;
};

/** What the recipient's Ledger credits, once by `id`. */
export type IncomingTransfer = { id: string; from: string; amountMicros: number; memo: string; at: number };

/**
 * The account's outgoing transfers. A send debits the sender and records
 * the transfer in one storage transaction (`record`); delivery to the
 * recipient's Ledger follows, and is retried by the sender's alarm until the
 * recipient acknowledges it (`undelivered`, `delivered`, `failed`). The
 * recipient credits a transfer once by its id (`receive`), so a delivery
 * whose acknowledgement was lost is simply sent again.
 */
export class Transfers {
  constructor(private readonly sql: Sql) {}

  byKey(key: string): TransferRow | undefined {
    return this.sql<TransferRow>`SELECT * FROM transfers_out WHERE idempotency_key = ${key}`[0];
  }

  /** Debits amount and fee and records the transfer; the caller checked the balance in the same transaction. */
  record(t: Omit<TransferRow, "delivered_at" | "attempts" | "next_attempt_at">): void {
    this.sql`INSERT INTO transfers_out (id, idempotency_key, to_account, amount_micros, fee_micros, memo, created_at, next_attempt_at)
             VALUES (${t.id}, ${t.idempotency_key}, ${t.to_account}, ${t.amount_micros}, ${t.fee_micros}, ${t.memo}, ${t.created_at}, ${t.created_at + RETRY_MS})`;
    journal(this.sql, {
      type: "send",
      ref: t.id,
      available_micros: -(t.amount_micros + t.fee_micros),
      counterparty: t.to_account,
      memo: t.memo,
      details: { amount_micros: t.amount_micros, fee_micros: t.fee_micros },
      at: t.created_at,
    });
  }

  /** Transfers not yet acknowledged whose next attempt is due (all of them with `now` = Infinity). */
  undelivered(now: number): TransferRow[] {
    return this.sql<TransferRow>`SELECT * FROM transfers_out WHERE delivered_at IS NULL AND next_attempt_at <= ${now} ORDER BY created_at LIMIT 50`;
  }

  delivered(id: string, at: number): void {
    this.sql`UPDATE transfers_out SET delivered_at = COALESCE(delivered_at, ${at}), attempts = attempts + 1 WHERE id = ${id}`;
  }

  failed(id: string, now: number): void {
    const row = this.sql<{ attempts: number }>`SELECT attempts FROM transfers_out WHERE id = ${id}`[0];
    const backoff = Math.min(MAX_RETRY_MS, RETRY_MS * 2 ** (row?.attempts ?? 0));
    this.sql`UPDATE transfers_out SET attempts = attempts + 1, next_attempt_at = ${now + backoff} WHERE id = ${id}`;
  }

  /** When the alarm must next try a delivery; null when every transfer landed. */
  dueAt(): number | null {
    return this.sql<{ at: number | null }>`SELECT MIN(next_attempt_at) AS at FROM transfers_out WHERE delivered_at IS NULL`[0]?.at ?? null;
  }

  /** Credits a transfer from another account once by its id; false when it was credited before. */
  static receive(sql: Sql, t: IncomingTransfer, now: number): boolean {
    return journal(sql, {
      type: "receive",
      ref: t.id,
      available_micros: t.amountMicros,
      counterparty: t.from,
      memo: t.memo,
      details: { sent_at: t.at },
      at: now,
    });
  }
}
