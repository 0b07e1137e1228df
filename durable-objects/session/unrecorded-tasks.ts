import type { Slot } from "../../domain/protocol/run-task";
import type { MinerRequest } from "../../domain/schemas/completion";
import type { AssignmentRow, TaskRow } from "./schema";

/**
 * How a new task is recorded:
 *  - `queued`: its row now, queued; its assignments come after a wait on I/O;
 *  - `assigned`: its row now, already `assigned`, its first assignment due in the same storage turn;
 *  - `unrecorded`: no row until its outcome (or a miner's failure): nothing about it needs to be on disk before its
 *    miners are called (no request id to keep from a second dispatch, no stream that shows its id first), so its rows are
 *    inserted once, with their final values, in the turn that records the outcome. Reads see it from memory meanwhile;
 *    a crash loses it whole (its client's call fails with the object) and its id stays unused (task-ids.ts).
 */
export type Recording = "queued" | "assigned" | "unrecorded";

/** A task recorded only with its outcome: its row and its assignments' rows as they would have been inserted. */
export type Unrecorded = { row: TaskRow; assignments: AssignmentRow[] };

export type NewTask = {
  requestId: string | null;
  requestHash: string;
  kind: MinerRequest["kind"];
  /** What is kept of the request: for off-chain tasks, everything but the prompt. */
  recorded: Omit<MinerRequest, "prompt" | "messages"> & Partial<Pick<MinerRequest, "prompt" | "messages">>;
  redundancy: number;
  createdAt: number;
  precommitDeadline: number;
  deadline: number;
  payloadVersion: "v2" | "v3" | null;
};

/**
 * The tasks recorded only with their outcome, until then: their rows as they
 * will be inserted (`TaskStore` applies the held changes over them, as over
 * stored rows, and inserts them with the outcome).
 */
export class UnrecordedTasks {
  private readonly byId = new Map<number, Unrecorded>();

  get size(): number {
    return this.byId.size;
  }

  get(taskId: number): Unrecorded | undefined {
    return this.byId.get(taskId);
  }

  /** A new task held: its row as an insert `assigned` would write it. */
  hold(taskId: number, task: NewTask): void {
    this.byId.set(taskId, { row: newTaskRow(taskId, task, "assigned"), assignments: [] });
  }

  /** Forgets a task (inserted, or discarded); whether it was held. */
  drop(taskId: number): boolean {
    return this.byId.delete(taskId);
  }

  /** The rows of the tasks below an id (a page of the task list). */
  rowsBefore(before: number): TaskRow[] {
    const rows: TaskRow[] = [];
    for (const u of this.byId.values()) if (u.row.task_id < before) rows.push(u.row);
    return rows;
  }

  /** How many were created after `since`. */
  createdAfter(since: number): number {
    let n = 0;
    for (const u of this.byId.values()) if (u.row.created_at > since) n++;
    return n;
  }
}

/** A new task's row, as its insert writes it. */
export function newTaskRow(taskId: number, task: NewTask, status: "queued" | "assigned"): TaskRow {
  return {
    task_id: taskId,
    request_id: task.requestId,
    request_hash: task.requestHash,
    status,
    kind: task.kind,
    request: JSON.stringify(task.recorded),
    redundancy: task.redundancy,
    created_at: task.createdAt,
    updated_at: task.createdAt,
    precommit_deadline_at: task.precommitDeadline,
    deadline_at: task.deadline,
    result: null,
    error: null,
    payload_version: task.payloadVersion,
    prompt_urn: null,
    result_urn: null,
    miner_pin: null,
    result_text_slot: null,
  };
}

/** An assignment's row as its insert writes it: assigned, nothing else known yet. */
export function assignedRow(taskId: number, s: Slot, at: number): AssignmentRow {
  return {
    task_id: taskId,
    slot: s.slot,
    miner_id: s.miner.id,
    status: "assigned",
    assigned_at: at,
    acked_at: null,
    precommitted_at: null,
    ended_at: null,
    latency_ms: null,
    precommit_hash: null,
    output: null,
    usage: null,
    usage_misreport: null,
    probation: s.miner.probation ? 1 : 0,
    agreed: null,
    similarity: null,
    late: 0,
    error: null,
    result_urn: null,
    report: null,
    report_seq: null,
    report_at: null,
    report_batch: null,
  };
}
