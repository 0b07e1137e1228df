import type { Sql } from "../sqlite-object";

/** What the Chain index object's one alarm drives: reading the chain, running hybrid tasks, writing results back, anchoring receipts, closing reward epochs. */
export type WorkKind = "tick" | "dispatch" | "writeback" | "anchor" | "rewards";

/**
 * The object's due work (the cloudflare/agents pattern: a table of due
 * times behind one alarm). Each kind of work has at most one row, the time
 * it is next due; asking for it sooner moves it earlier, never later. The
 * alarm takes (deletes) a row before running its work, so work made due
 * while it runs is due again after it.
 */
export class DueWork {
  constructor(private readonly sql: Sql) {}

  /** `kind` is due at `at`, or at the earlier time it already had. */
  due(kind: WorkKind, at: number): void {
    this.sql`INSERT INTO due_work (kind, due_at) VALUES (${kind}, ${at}) ON CONFLICT (kind) DO UPDATE SET due_at = MIN(due_at, excluded.due_at)`;
  }

  /** Removes `kind`'s row: the alarm is about to run it. */
  take(kind: WorkKind): void {
    this.sql`DELETE FROM due_work WHERE kind = ${kind}`;
  }

  /** The kinds due at or before `now`, earliest first. */
  dueBy(now: number): WorkKind[] {
    return this.sql<{ kind: WorkKind }>`SELECT kind FROM due_work WHERE due_at <= ${now} ORDER BY due_at, kind`.map((r) => r.kind);
  }

  /** The earliest due time, or null: nothing is due. */
  next(): number | null {
    return this.sql<{ at: number | null }>`SELECT MIN(due_at) AS at FROM due_work`[0]?.at ?? null;
  }

  list(): { kind: WorkKind; due_at: number }[] {
    return this.sql<{ kind: WorkKind; due_at: number }>`SELECT kind, due_at FROM due_work ORDER BY due_at, kind`;
  }
}
