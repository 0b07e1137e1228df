import { MAX_SHARDS } from "../../domain/schemas/session";
import { nextTaskId, type ShardLayout } from "../../domain/sessions/shard-layout";
import type { Sql } from "../sqlite-object";

/** How many ids one reservation covers: one write for that many tasks recorded only with their outcome. */
export const ID_BLOCK = 32;

/**
 * The shard's task ids. A task recorded before its miners are called takes
 * the next id after the largest row; a task recorded only with its outcome
 * (task-store.ts, `unrecorded`) is in no row while its miners work on it, so
 * its id is first reserved in `session.ids_reserved`, a block at a time, in
 * the storage turn that hands it out (the output gate holds the miner call
 * until that write is durable). An object that restarts continues above the
 * reservation: a task lost with the object never lends its id, which its
 * miners saw, to another task. The price is a gap of at most a block after
 * a restart, as a database sequence's cache leaves one.
 */
export class TaskIds {
  /** The largest id given out at or above a layout's base, as this instance knows it: no MAX() a task. */
  private largest: { from: number; id: number | null; step: number } | undefined;
  /** `session.ids_reserved` as this instance last read or wrote it. */
  private reserved: number | null | undefined;

  constructor(private readonly sql: Sql) {}

  /** The next id under the layout; `reserve`: the task is recorded only with its outcome, its id must be reserved first. */
  next(layout: ShardLayout, shard: number, reserve: boolean): number {
    const from = layout.base ?? 0;
    const largest = this.largest?.from === from ? this.largest.id : this.largestStored(from);
    const id = nextTaskId(layout, shard, largest);
    this.largest = { from, id, step: layout.base === null ? 1 : MAX_SHARDS };
    if (reserve && (this.reserved ?? -1) < id) {
      let to = id;
      for (let i = 1; i < ID_BLOCK; i++) to = nextTaskId(layout, shard, to);
      this.sql`UPDATE session SET ids_reserved = ${to} WHERE id = 1`;
      this.reserved = to;
    }
    return id;
  }

  /** The id shard 0 gives next, whatever the layout (the base of a first sharding is above it), reserved ids included. */
  nextOwn(): number {
    const row = this.sql<{ largest: number | null; reserved: number | null }>`
      SELECT (SELECT MAX(task_id) FROM tasks) AS largest, (SELECT ids_reserved FROM session WHERE id = 1) AS reserved`[0];
    return Math.max(row?.largest ?? -1, row?.reserved ?? -1, this.largest?.id ?? -1) + 1;
  }

  /** Takes back a discarded task's id (it reached no miner) when it is still the last given out; otherwise it stays a gap. */
  giveBack(id: number): void {
    const last = this.largest;
    if (last?.id !== id) return;
    last.id = id - last.step >= last.from ? id - last.step : null;
  }

  /** The largest id at or above `from` in a row or a reservation (one of this shard's: a reservation is made in its sequence). */
  private largestStored(from: number): number | null {
    const row = this.sql<{ largest: number | null; reserved: number | null }>`
      SELECT (SELECT MAX(task_id) FROM tasks WHERE task_id >= ${from}) AS largest, (SELECT ids_reserved FROM session WHERE id = 1) AS reserved`[0];
    this.reserved = row?.reserved ?? null;
    const reserved = this.reserved !== null && this.reserved >= from ? this.reserved : null;
    if (row?.largest == null) return reserved;
    return reserved === null ? row.largest : Math.max(row.largest, reserved);
  }
}
