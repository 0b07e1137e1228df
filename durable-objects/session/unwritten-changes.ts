import type { AssignmentRow, TaskEventRow, TaskRow, TaskStatus } from "./schema";

/** The assignment columns a held change may set; each is set at most once in a slot's life, so a later write never needs to clear one. */
export type SlotFields = Partial<
  Pick<
    AssignmentRow,
    | "acked_at"
    | "precommitted_at"
    | "ended_at"
    | "latency_ms"
    | "precommit_hash"
    | "output"
    | "usage"
    | "usage_misreport"
    | "agreed"
    | "similarity"
    | "late"
    | "report"
    | "report_seq"
    | "report_at"
  >
>;

/** One state change of a running task, held in memory: of the task itself (`slot` null) or of one assignment. */
export type Change =
  /**
   * `historyOnly`: a line of the task's history whose row already says it (its `assigned` when its row was inserted so; its
   * `queued` when the task is held in memory, its row to be inserted with its outcome).
   */
  | { slot: null; state: TaskStatus; at: number; historyOnly?: true }
  /**
   * `silent`: a change of the row that the task's history does not list (an assignment's end, told by the task's).
   * `historyOnly`: a line of the history whose row is written otherwise (an assignment's `assigned`, its row inserted with it).
   */
  | { slot: number; state: string; at: number; fields: SlotFields; silent?: true; historyOnly?: true }
  /** Fields of an assignment alone, its status unchanged and no history line (a slot's queued report). */
  | { slot: number; state: null; at: number; fields: SlotFields; silent: true };

/** What a task's held changes amount to, per row: the task's last status, each slot's last status and the fields set. */
export type Coalesced = {
  task: { status: TaskStatus; at: number } | undefined;
  /** `status` null: the row's own (only fields change). */
  slots: Map<number, { status: string | null; fields: SlotFields }>;
  events: TaskEventRow[];
};

/**
 * The state changes of running tasks that are not written yet (acks,
 * on-time results, the commit phase opening, late results). They go to
 * storage with the task's next write, which every outcome makes, so a task
 * costs one storage turn for its record, one for its outcome and one when its
 * last miner call ends, however many events happen in between. Until then
 * reads apply them over the rows, so the object itself never sees the lag;
 * a crash loses them (docs/storage-schema.md, "What survives a crash").
 */
export class UnwrittenChanges {
  private readonly byTask = new Map<number, Change[]>();

  hold(taskId: number, change: Change): void {
    const held = this.byTask.get(taskId);
    if (held) held.push(change);
    else this.byTask.set(taskId, [change]);
  }

  /** Whether anything of the task is held. */
  has(taskId: number): boolean {
    return this.byTask.has(taskId);
  }

  /**
   * Whether all that is held of the task is `assigned` lines of its history (an assignment's, and the task's own when its
   * row was inserted `assigned`): lines a restart can rebuild from the assignments' rows (task-history.ts), so a write
   * with no statement of the task's row may leave them held for the next one.
   */
  onlyAssignedLines(taskId: number): boolean {
    const held = this.byTask.get(taskId);
    return held?.every((c) => c.state === "assigned" && "historyOnly" in c && c.historyOnly === true) ?? false;
  }

  /** The task's held changes, coalesced, now forgotten: the caller writes them. */
  take(taskId: number): Coalesced | undefined {
    const held = this.byTask.get(taskId);
    this.byTask.delete(taskId);
    return held && coalesce(held);
  }

  /** Drops a task's held changes unwritten (a task discarded as never submitted). */
  drop(taskId: number): void {
    this.byTask.delete(taskId);
  }

  /** The task row as it will be once its held changes are written. */
  task<R extends Pick<TaskRow, "task_id" | "status" | "updated_at">>(row: R): R {
    const held = this.byTask.get(row.task_id);
    const last = held && coalesce(held).task;
    return last ? { ...row, status: last.status, updated_at: last.at } : row;
  }

  assignments(taskId: number, rows: AssignmentRow[]): AssignmentRow[] {
    const held = this.byTask.get(taskId);
    if (!held) return rows;
    const { slots } = coalesce(held);
    return rows.map((row) => {
      const change = slots.get(row.slot);
      // Coalesced fields hold set values only (`setDefined`).
      return change ? { ...row, ...change.fields, status: change.status ?? row.status } : row;
    });
  }

  /** The task's history: the written events, then the held ones (always later: any write of the task writes them first). */
  events(taskId: number, written: TaskEventRow[]): TaskEventRow[] {
    const held = this.byTask.get(taskId);
    return held ? [...written, ...coalesce(held).events] : written;
  }
}

function coalesce(changes: readonly Change[]): Coalesced {
  const out: Coalesced = { task: undefined, slots: new Map(), events: [] };
  for (const c of changes) {
    if (c.slot === null) {
      out.events.push({ slot: null, state: c.state, at: c.at });
      if (!c.historyOnly) out.task = { status: c.state, at: c.at };
      continue;
    }
    if (!c.silent && c.state !== null) out.events.push({ slot: c.slot, state: c.state, at: c.at });
    if ("historyOnly" in c && c.historyOnly) continue;
    // The slot's fields gathered in one object of this coalescing's own (a later change's values over an earlier's, unset ones skipped).
    let slot = out.slots.get(c.slot);
    if (slot) slot.status = c.state ?? slot.status;
    else {
      slot = { status: c.state, fields: {} };
      out.slots.set(c.slot, slot);
    }
    setDefined(slot.fields, c.fields);
  }
  return out;
}

/** Copies the fields `from` sets (not undefined) onto `into`. */
function setDefined(into: SlotFields, from: SlotFields): void {
  for (const key in from) {
    const value = from[key as keyof SlotFields];
    if (value !== undefined) (into as Record<string, unknown>)[key] = value;
  }
}
