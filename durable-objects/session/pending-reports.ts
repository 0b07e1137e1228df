import { z } from "zod";
import type { MinerOutcomeReport } from "../miner-registry";
import type { Sql } from "../sqlite-object";

/** Reports are sent when this many are waiting, without waiting for the alarm. */
export const FLUSH_COUNT = 50;
/** The longest a report waits in the session before the alarm sends it. */
export const FLUSH_INTERVAL_MS = 2000;
/** A batch the registry did not take is retried this long after the failed attempt. */
const RETRY_MS = 5000;
/** At most this many reports go in one batch (one RPC). */
const MAX_BATCH = 500;

const Outcome = z.enum(["agreed", "disagreed", "failed", "timed_out", "request_failed", "usage_misreported", "cancelled"]);
type Row = { id: number; batch_id: string | null; miner_id: string; outcome: string; latency_ms: number | null; created_at: number };

export type ReportBatch = { batchId: string; reports: MinerOutcomeReport[] };

/**
 * The session's outbox of miner outcome reports. Each report is a row
 * written in the storage turn that recorded its outcome, so an evicted or
 * restarted object loses none; rows are grouped under a batch id when first
 * sent and deleted only when the registry acknowledged that batch. A batch
 * whose answer was lost is sent again under the same id, and the registry
 * counts a batch id once.
 */
export class PendingReports {
  /** When the last failed attempt asked to try again (memory only: a restart retries at once). */
  private retryAt = 0;
  /** Rows waiting, counted once a wake and then kept (only this class writes the table): every task asks. */
  private waiting: number | undefined;
  /** The batch `next` last gave out, and its rows. */
  private sent: { batchId: string; rows: number } | undefined;

  constructor(
    private readonly sql: Sql,
    private readonly now: () => number,
  ) {}

  add(reports: readonly MinerOutcomeReport[]): void {
    const at = this.now();
    const [only] = reports;
    if (reports.length === 1 && only) {
      this.sql`INSERT INTO pending_reports (miner_id, outcome, latency_ms, created_at) VALUES (${only.minerId}, ${only.outcome}, ${only.latencyMs}, ${at})`;
    } else if (reports.length > 1) {
      // A task's several slots in one statement; json_each keeps their order, and so the ids.
      this.sql`INSERT INTO pending_reports (miner_id, outcome, latency_ms, created_at)
               SELECT value ->> 'minerId', value ->> 'outcome', value ->> 'latencyMs', ${at} FROM json_each(${JSON.stringify(reports)}) ORDER BY key`;
    }
    if (this.waiting !== undefined) this.waiting += reports.length;
  }

  count(): number {
    this.waiting ??= this.sql<{ n: number }>`SELECT COUNT(*) AS n FROM pending_reports`[0]?.n ?? 0;
    return this.waiting;
  }

  /** When the alarm should next send reports; null when none wait. */
  dueAt(): number | null {
    const oldest = this.sql<{ at: number | null }>`SELECT MIN(created_at) AS at FROM pending_reports`[0]?.at ?? null;
    return oldest === null ? null : Math.max(oldest + FLUSH_INTERVAL_MS, this.retryAt);
  }

  /** The batch to send: one sent before and not acknowledged (same id), else a new one of the oldest waiting reports. */
  next(): ReportBatch | null {
    let batchId = this.sql<{ batch_id: string }>`SELECT batch_id FROM pending_reports WHERE batch_id IS NOT NULL ORDER BY id LIMIT 1`[0]?.batch_id;
    if (batchId === undefined) {
      batchId = crypto.randomUUID();
      this.sql`UPDATE pending_reports SET batch_id = ${batchId}
               WHERE id IN (SELECT id FROM pending_reports WHERE batch_id IS NULL ORDER BY id LIMIT ${MAX_BATCH})`;
    }
    const rows = this.sql<Row>`SELECT * FROM pending_reports WHERE batch_id = ${batchId} ORDER BY id`;
    if (rows.length === 0) return null;
    this.sent = { batchId, rows: rows.length };
    return { batchId, reports: rows.map((r) => ({ minerId: r.miner_id, outcome: Outcome.parse(r.outcome), latencyMs: r.latency_ms })) };
  }

  acknowledged(batchId: string): void {
    this.sql`DELETE FROM pending_reports WHERE batch_id = ${batchId}`;
    // The batch's rows are the ones `next` read (only this class writes the table): the count stays known.
    this.waiting = this.waiting !== undefined && this.sent?.batchId === batchId ? this.waiting - this.sent.rows : undefined;
    this.sent = undefined;
    this.retryAt = 0;
  }

  failed(): void {
    this.retryAt = this.now() + RETRY_MS;
  }
}
