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

/** A slot's report as its assignment row carries it: the outcome, its place in the queue and when it was queued. */
export type SlotReport = { slot: number; report: MinerOutcomeReport["outcome"]; report_seq: number; report_at: number };

export type ReportBatch = { batchId: string; reports: MinerOutcomeReport[] };

/**
 * The session's outbox of miner outcome reports. The outbox is the
 * assignments themselves: a slot's report is written in the update that
 * records its end (`TaskStore`, with the fields `stamp` gives), in the storage
 * turn that recorded the task's outcome, so an evicted or restarted object
 * loses none and a task writes no row for it. Its outcome is kept in the row
 * (`report`): the row alone cannot tell it (a failure's fault is not
 * stored); the miner and the latency are the row's own. Waiting reports
 * (`report_seq` set) are grouped under a batch id when first sent
 * (`report_batch`, one update a batch) and leave the queue only when the
 * registry acknowledged that batch (one update a batch). A batch whose
 * answer was lost is sent again under the same id, and the registry counts a
 * batch id once.
 *
 * Reports queued before the assignments carried them are rows of
 * `pending_reports`, which nothing writes any more: they are sent first, the
 * same way, until none is left.
 */
export class PendingReports {
  /** When the last failed attempt asked to try again (memory only: a restart retries at once). */
  private retryAt = 0;
  /** Reports waiting, counted once a wake and then kept (only this class and the writes it stamps change them): every task asks. */
  private waiting: number | undefined;
  /** The last queue place given, read once a wake. */
  private seq: number | undefined;
  /** Whether rows of `pending_reports` may be left (read once a wake; false once drained). */
  private legacy: boolean | undefined;
  /** The batch `next` last gave out, its size and where it came from. */
  private sent: { batchId: string; rows: number; legacy: boolean } | undefined;

  constructor(
    private readonly sql: Sql,
    private readonly now: () => number,
  ) {}

  /**
   * The report fields for these slots' assignments, in order: each the next
   * place in the queue, queued now. The caller writes them in this same
   * synchronous turn (with the outcome that decided them).
   */
  stamp(reports: readonly (MinerOutcomeReport & { slot: number })[]): SlotReport[] {
    if (reports.length === 0) return [];
    const at = this.now();
    let seq = this.seq ?? this.sql<{ seq: number | null }>`SELECT MAX(report_seq) AS seq FROM assignments WHERE report_seq IS NOT NULL`[0]?.seq ?? 0;
    const stamped = reports.map((r) => ({ slot: r.slot, report: r.outcome, report_seq: ++seq, report_at: at }));
    this.seq = seq;
    if (this.waiting !== undefined) this.waiting += reports.length;
    return stamped;
  }

  count(): number {
    if (this.waiting === undefined) {
      const queued = this.sql<{ n: number }>`SELECT COUNT(*) AS n FROM assignments WHERE report_seq IS NOT NULL`[0]?.n ?? 0;
      this.waiting = queued + (this.hasLegacy() ? (this.sql<{ n: number }>`SELECT COUNT(*) AS n FROM pending_reports`[0]?.n ?? 0) : 0);
    }
    return this.waiting;
  }

  /** When the alarm should next send reports; null when none wait. */
  dueAt(): number | null {
    const queued = this.sql<{ at: number | null }>`SELECT MIN(report_at) AS at FROM assignments WHERE report_seq IS NOT NULL`[0]?.at ?? null;
    const legacy = this.hasLegacy() ? (this.sql<{ at: number | null }>`SELECT MIN(created_at) AS at FROM pending_reports`[0]?.at ?? null) : null;
    const oldest = queued === null ? legacy : legacy === null ? queued : Math.min(queued, legacy);
    return oldest === null ? null : Math.max(oldest + FLUSH_INTERVAL_MS, this.retryAt);
  }

  /** The batch to send: one sent before and not acknowledged (same id), else a new one of the oldest waiting reports. */
  next(): ReportBatch | null {
    if (this.hasLegacy()) {
      const batch = this.nextLegacy();
      if (batch) return batch;
      this.legacy = false;
    }
    let batchId = this.sql<{ report_batch: string }>`
      SELECT report_batch FROM assignments WHERE report_seq IS NOT NULL AND report_batch IS NOT NULL ORDER BY report_seq LIMIT 1`[0]?.report_batch;
    if (batchId === undefined) {
      batchId = crypto.randomUUID();
      this.sql`UPDATE assignments SET report_batch = ${batchId}
               WHERE rowid IN (SELECT rowid FROM assignments WHERE report_seq IS NOT NULL AND report_batch IS NULL ORDER BY report_seq LIMIT ${MAX_BATCH})`;
    }
    const rows = this.sql<{ miner_id: string; report: string; latency_ms: number | null }>`
      SELECT miner_id, report, latency_ms FROM assignments WHERE report_seq IS NOT NULL AND report_batch = ${batchId} ORDER BY report_seq`;
    if (rows.length === 0) return null;
    this.sent = { batchId, rows: rows.length, legacy: false };
    return { batchId, reports: rows.map((r) => ({ minerId: r.miner_id, outcome: Outcome.parse(r.report), latencyMs: r.latency_ms })) };
  }

  acknowledged(batchId: string): void {
    if (this.sent?.batchId === batchId && this.sent.legacy) {
      this.sql`DELETE FROM pending_reports WHERE batch_id = ${batchId}`;
    } else {
      // Out of the queue; the row keeps the outcome it reported and when.
      this.sql`UPDATE assignments SET report_seq = NULL, report_batch = NULL WHERE report_seq IS NOT NULL AND report_batch = ${batchId}`;
    }
    // The batch's rows are the ones `next` read: the count stays known.
    this.waiting = this.waiting !== undefined && this.sent?.batchId === batchId ? this.waiting - this.sent.rows : undefined;
    this.sent = undefined;
    this.retryAt = 0;
  }

  failed(): void {
    this.retryAt = this.now() + RETRY_MS;
  }

  private hasLegacy(): boolean {
    this.legacy ??= this.sql<{ id: number }>`SELECT id FROM pending_reports LIMIT 1`.length > 0;
    return this.legacy;
  }

  /** A batch of the reports queued before the assignments carried them (as they were sent then). */
  private nextLegacy(): ReportBatch | null {
    let batchId = this.sql<{ batch_id: string }>`SELECT batch_id FROM pending_reports WHERE batch_id IS NOT NULL ORDER BY id LIMIT 1`[0]?.batch_id;
    if (batchId === undefined) {
      batchId = crypto.randomUUID();
      this.sql`UPDATE pending_reports SET batch_id = ${batchId}
               WHERE id IN (SELECT id FROM pending_reports WHERE batch_id IS NULL ORDER BY id LIMIT ${MAX_BATCH})`;
    }
    const rows = this.sql<{ miner_id: string; outcome: string; latency_ms: number | null }>`
      SELECT miner_id, outcome, latency_ms FROM pending_reports WHERE batch_id = ${batchId} ORDER BY id`;
    if (rows.length === 0) return null;
    this.sent = { batchId, rows: rows.length, legacy: true };
    return { batchId, reports: rows.map((r) => ({ minerId: r.miner_id, outcome: Outcome.parse(r.outcome), latencyMs: r.latency_ms })) };
  }
}
