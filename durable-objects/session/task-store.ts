import type { Slot } from "../../domain/protocol/run-task";
import type { SessionConfig } from "../../domain/schemas/session";
import type { ShardLayout } from "../../domain/sessions/shard-layout";
import type { Sql } from "../sqlite-object";
import { type AssignmentRow, OPEN_STATUSES, type SessionRow, type StoredError, type TaskEventRow, type TaskRow, type TaskStatus } from "./schema";
import type { SlotReport } from "./pending-reports";
import { historyJson, historyLines, lostAssignedLines } from "./task-history";
import { TaskIds } from "./task-ids";
import { type Coalesced, type SlotFields, UnwrittenChanges } from "./unwritten-changes";
import { assignedRow, type NewTask, newTaskRow, type Recording, type Unrecorded, UnrecordedTasks } from "./unrecorded-tasks";

/**
 * A committed task's row as the commit writes it: the (sealed) completion, the
 * slot whose output is its answer's text (stored-text.ts), its v2/v3 result's
 * URN, what it paid its miners (micros; NULL: nothing was settled) and its receipt.
 */
export type StoredResult = { json: string; textSlot: number | null; resultUrn: string | null; rewardMicros: number | null; receipt: StoredReceipt | null };

/** A task's receipt's body as its row stores it (task-receipts.ts), and whether its miners' outputs are their assignments'. */
export type StoredReceipt = { json: string; outputsInAssignments: boolean };

const isOpen = (status: TaskStatus) => (OPEN_STATUSES as readonly TaskStatus[]).includes(status);

/**
 * The Session object's records: its configuration, its tasks and every
 * miner assignment through their states, each change with its timestamp in
 * the task's history (its row's `history`, task-history.ts; `task_events` for
 * tasks written before). Plain SQL, no policy: the object decides, this writes.
 *
 * A running task's intermediate changes (acks, results, the commit phase
 * opening, late results) are held in memory and written with the task's next
 * write (`UnwrittenChanges`); every read here sees them already applied.
 */
export class TaskStore {
  private readonly unwritten = new UnwrittenChanges();
  /** Tasks recorded only with their outcome (`Recording`), until then. */
  private readonly unrecorded = new UnrecordedTasks();
  private readonly ids: TaskIds;
  /**
   * The task last inserted already `assigned` (its first assignment due in the same turn): that assignment then writes no
   * status update. The row's `updated_at` stays its insert time, the same instant on Workers, whose clock stands still
   * within a turn (locally it may be a millisecond earlier than the history's `assigned` line); the commit sets it anyway.
   */
  private insertedAssigned: number | undefined;

  constructor(
    private readonly sql: Sql,
    private readonly storage: DurableObjectStorage,
    private readonly now: () => number,
  ) {
    this.ids = new TaskIds(sql);
  }

  // --- the session ---------------------------------------------------------

  session(): SessionRow | undefined {
    return this.sql<SessionRow>`SELECT session_id, config, created_at, updated_at, shard, version, layout FROM session WHERE id = 1`[0];
  }

  /** The settings, on the session's own object (shard 0) or as a shard's copy (`createdAt` then the session's). */
  saveSession(sessionId: number, config: SessionConfig, shard: { index: number; version: string; layout: ShardLayout; createdAt?: number }) {
    const now = this.now();
    const layout = shard.layout.base === null ? null : JSON.stringify(shard.layout);
    this.sql`INSERT INTO session (id, session_id, config, created_at, updated_at, shard, version, layout)
             VALUES (1, ${sessionId}, ${JSON.stringify(config)}, ${shard.createdAt ?? now}, ${now}, ${shard.index}, ${shard.version}, ${layout})
             ON CONFLICT (id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at, version = excluded.version, layout = excluded.layout`;
  }

  taskCount(): number {
    return (this.sql<{ n: number }>`SELECT COUNT(*) AS n FROM tasks`[0]?.n ?? 0) + this.unrecorded.size;
  }

  /** Tasks held in memory until their outcome (`unrecorded`): how many, and how many of them were created after `since`. */
  unrecordedCounts(since: number): { all: number; since: number } {
    return { all: this.unrecorded.size, since: this.unrecorded.createdAfter(since) };
  }

  // --- reading tasks -------------------------------------------------------
  // Reads go through the view `task_rows` (schema.ts): `TaskRow`'s columns, not the receipt's body a row also holds.

  task(taskId: number): TaskRow | undefined {
    const row = this.unrecorded.get(taskId)?.row ?? this.sql<TaskRow>`SELECT * FROM task_rows WHERE task_id = ${taskId}`[0];
    return row && this.unwritten.task(row);
  }

  taskByRequestId(requestId: string): TaskRow | undefined {
    // Only stored rows: a task held in memory has no request id (it is stored under an owner-only key, which no lookup names).
    const row = this.sql<TaskRow>`SELECT * FROM task_rows WHERE request_id = ${requestId}`[0];
    return row && this.unwritten.task(row);
  }

  tasks(limit: number, before: number): TaskRow[] {
    const rows = this.sql<TaskRow>`SELECT * FROM task_rows WHERE task_id < ${before} ORDER BY task_id DESC LIMIT ${limit}`;
    const running = this.unrecorded.rowsBefore(before);
    const all = running.length === 0 ? rows : [...rows, ...running].sort((a, b) => b.task_id - a.task_id).slice(0, limit);
    return all.map((row) => this.unwritten.task(row));
  }

  assignments(taskId: number): AssignmentRow[] {
    const unrecorded = this.unrecorded.get(taskId)?.assignments;
    return this.unwritten.assignments(taskId, unrecorded ? [...unrecorded] : this.sql<AssignmentRow>`SELECT * FROM assignments WHERE task_id = ${taskId} ORDER BY slot`);
  }

  /**
   * The task's history: its lines in `task_events` (a task written before `tasks.history`: they came first), its row's, the
   * held ones; for an open task that no instance runs any more (a restart), the `assigned` lines it lost (task-history.ts).
   */
  events(taskId: number): TaskEventRow[] {
    // A task held in memory: every line of it is held.
    if (this.unrecorded.get(taskId)) return this.unwritten.events(taskId, []);
    const row = this.sql<{ status: TaskStatus; history: string | null }>`SELECT status, history FROM tasks WHERE task_id = ${taskId}`[0];
    const lines = this.unwritten.events(taskId, this.writtenLines(taskId, row?.history));
    if (!row || !isOpen(row.status) || this.unwritten.has(taskId)) return lines;
    return [...lines, ...lostAssignedLines(lines, this.assignedAt(taskId))];
  }

  private writtenLines(taskId: number, history: string | null | undefined): TaskEventRow[] {
    const legacy = this.sql<TaskEventRow>`SELECT slot, state, at FROM task_events WHERE task_id = ${taskId} ORDER BY id`;
    return legacy.length === 0 ? historyLines(history) : [...legacy, ...historyLines(history)];
  }

  private assignedAt(taskId: number) {
    return this.sql<{ slot: number; assigned_at: number }>`SELECT slot, assigned_at FROM assignments WHERE task_id = ${taskId} ORDER BY slot`;
  }

  slotOf(taskId: number, minerId: string): number | undefined {
    const unrecorded = this.unrecorded.get(taskId);
    if (unrecorded) return unrecorded.assignments.find((a) => a.miner_id === minerId)?.slot;
    return this.sql<{ slot: number }>`SELECT slot FROM assignments WHERE task_id = ${taskId} AND miner_id = ${minerId}`[0]?.slot;
  }

  /** Whether the miner's assignment to the task is still open (assigned or acked). */
  isAssignmentOpen(taskId: number, minerId: string): boolean {
    return this.assignments(taskId).some((a) => a.miner_id === minerId && (a.status === "assigned" || a.status === "acked"));
  }

  overdue(now: number): TaskRow[] {
    return this.sql<TaskRow>`SELECT * FROM task_rows WHERE status NOT IN ('ended', 'failed', 'timed_out') AND deadline_at <= ${now}`;
  }

  earliestOpenDeadline(): number | null {
    return this.sql<{ at: number | null }>`SELECT MIN(deadline_at) AS at FROM tasks WHERE status NOT IN ('ended', 'failed', 'timed_out')`[0]?.at ?? null;
  }

  // --- writing tasks -------------------------------------------------------

  /** The id shard 0 gives next, whatever the layout (the base of a first sharding is above it). */
  nextOwnId(): number {
    return this.ids.nextOwn();
  }

  /**
   * A new task with this shard's next id under the layout, recorded as `recording` says (`Recording`).
   * `assigned`: the caller knows the task's first assignment is written in
   * this same storage turn (no wait on I/O before it), so the row is inserted
   * with the status it ends the turn with, `assigned` (no update of it a
   * statement later; the `assigned` lines are held for the task's next write
   * of its row); `queued`: the row is `queued`. Either way its history starts
   * with its `queued` line, in the insert. `unrecorded`: the row as `assigned`
   * would insert it, held in memory with its `queued` line.
   */
  insertTask(task: NewTask, layout: ShardLayout, shard: number, recording: Recording = "queued"): number {
    if (recording === "unrecorded") return this.holdTask(task, layout, shard);
    const insert = (status: "queued" | "assigned") => {
      const taskId = this.ids.next(layout, shard, false);
      this.insertTaskRow(newTaskRow(taskId, task, status), null, [{ slot: null, state: "queued", at: this.now() }]);
      return taskId;
    };
    let taskId: number;
    // One statement, with the task's `queued` line: atomic by itself, no transaction.
    if (recording === "assigned") {
      taskId = insert("assigned");
      this.insertedAssigned = taskId;
    } else {
      taskId = insert("queued");
    }
    return taskId;
  }

  /** A task recorded only with its outcome: its id reserved (task-ids.ts), its row in memory, its `queued` line held. */
  private holdTask(task: NewTask, layout: ShardLayout, shard: number): number {
    const taskId = this.ids.next(layout, shard, true);
    this.unrecorded.hold(taskId, task);
    this.unwritten.hold(taskId, { slot: null, state: "queued", at: this.now(), historyOnly: true });
    this.insertedAssigned = taskId;
    return taskId;
  }

  setPromptUrn(taskId: number, urn: string) {
    const unrecorded = this.unrecorded.get(taskId);
    if (unrecorded) unrecorded.row.prompt_urn = urn;
    else this.sql`UPDATE tasks SET prompt_urn = ${urn} WHERE task_id = ${taskId}`;
  }

  setAssignmentResultUrn(taskId: number, minerId: string, urn: string) {
    this.storage.transactionSync(() => {
      this.writeHeld(taskId);
      this.sql`UPDATE assignments SET result_urn = ${urn} WHERE task_id = ${taskId} AND miner_id = ${minerId}`;
    });
  }

  /**
   * Writes what is still held of a task once its last miner call has ended: its late results, with the reports of the
   * slots that ended since the outcome (most tasks have none: no transaction, no write).
   */
  settle(taskId: number, reports: readonly SlotReport[] = []) {
    this.holdReports(taskId, reports);
    if (!this.unwritten.has(taskId)) return;
    this.storage.transactionSync(() => this.writeHeld(taskId));
  }

  /**
   * The task committed: each precommitted slot with its agreement and its
   * miner's report, the (sealed) result with its URN and reward, then ended.
   * The changes join the held ones, so the outcome is one statement per slot,
   * one for the task and one for the history, whatever happened before it.
   */
  commit(taskId: number, slots: readonly Slot[], result: StoredResult, reports: readonly SlotReport[] = []) {
    const now = this.now();
    const answered = slots.filter((s) => s.state === "precommitted");
    for (const s of answered) {
      this.unwritten.hold(taskId, {
        slot: s.slot,
        state: "committed",
        at: now,
        fields: { agreed: s.agreed ? 1 : 0, similarity: s.similarity ?? null, usage_misreport: s.usageMisreport ?? null },
      });
    }
    this.unwritten.hold(taskId, { slot: null, state: "committed", at: now });
    for (const s of answered) this.unwritten.hold(taskId, { slot: s.slot, state: "ended", at: now, fields: { ended_at: now }, silent: true });
    this.unwritten.hold(taskId, { slot: null, state: "ended", at: now });
    this.holdReports(taskId, reports);
    this.storage.transactionSync(() => this.writeHeld(taskId, result));
  }

  /** The slots' reports, held to be written by the write that follows at once (the outcome's): each in its slot's update. */
  private holdReports(taskId: number, reports: readonly SlotReport[]) {
    for (const r of reports) {
      this.unwritten.hold(taskId, { slot: r.slot, state: null, at: r.report_at, fields: { report: r.report, report_seq: r.report_seq, report_at: r.report_at }, silent: true });
    }
  }

  /**
   * Forgets a task that never reached a miner, as if it had not been submitted. `reuseId`: its id goes back to the next
   * task when still the last given (task-ids.ts); false where something stays bound to it (its payload keys' rows).
   */
  discard(taskId: number, { reuseId = true }: { reuseId?: boolean } = {}) {
    this.unwritten.drop(taskId);
    if (reuseId) this.ids.giveBack(taskId);
    if (this.unrecorded.drop(taskId)) return;
    this.storage.transactionSync(() => {
      this.sql`DELETE FROM task_events WHERE task_id = ${taskId}`;
      this.sql`DELETE FROM assignments WHERE task_id = ${taskId}`;
      this.sql`DELETE FROM tasks WHERE task_id = ${taskId}`;
    });
  }

  /**
   * The task failed or timed out; its error is kept so that a replay answers
   * the same. `judged`: the slots of a task that had results but failed its
   * consensus policy, whose agreement is recorded all the same; `reports`:
   * its ended slots' reports; `receipt`: its receipt, written with its error.
   */
  fail(
    taskId: number,
    status: "failed" | "timed_out",
    error: StoredError,
    judged: readonly Slot[] = [],
    reports: readonly SlotReport[] = [],
    receipt: StoredReceipt | null = null,
  ) {
    this.holdReports(taskId, reports);
    // Its status joins the held changes: the row's update writes it with their history lines and its own.
    this.unwritten.hold(taskId, { slot: null, state: status, at: this.now() });
    this.storage.transactionSync(() => {
      this.writeHeld(taskId);
      for (const s of judged) {
        if (s.state !== "precommitted") continue;
        this.sql`UPDATE assignments SET agreed = ${s.agreed ? 1 : 0}, similarity = ${s.similarity ?? null}, usage_misreport = ${s.usageMisreport ?? null}
                 WHERE task_id = ${taskId} AND slot = ${s.slot}`;
      }
      this.sql`UPDATE tasks SET error = ${JSON.stringify(error)}, receipt = ${receipt?.json ?? null}, receipt_outputs_in_assignments = ${receipt?.outputsInAssignments ? 1 : 0}
               WHERE task_id = ${taskId}`;
    });
  }

  /** A task found open past its deadline by an object that no longer runs it (it restarted). */
  timeOutOrphan(taskId: number, error: StoredError) {
    const now = this.now();
    // The `assigned` lines its restart lost, written back before its `timed_out` (task-history.ts).
    const row = this.sql<{ history: string | null }>`SELECT history FROM tasks WHERE task_id = ${taskId}`[0];
    const lost = lostAssignedLines(this.writtenLines(taskId, row?.history), this.assignedAt(taskId));
    this.storage.transactionSync(() => {
      this.sql`UPDATE assignments SET status = 'timed_out', ended_at = ${now}, error = 'task timed out'
               WHERE task_id = ${taskId} AND status IN ('assigned', 'acked', 'precommitted')`;
      this.sql`UPDATE tasks SET error = ${JSON.stringify(error)} WHERE task_id = ${taskId}`;
      this.setStatus(taskId, "timed_out", lost);
    });
  }

  /**
   * The protocol engine's events for one task. A miner's assignment is
   * written at once, in the turn that calls it, so it is durable before the
   * call leaves (the output gate holds the request until the write commits);
   * so is a failure, which seldom costs a turn more: its replacement's
   * assignment is written in the same turn (unless the registry must be asked
   * for another miner first). Acks, results and the commit phase opening
   * are held and written with the outcome; results after it with the task's
   * settling.
   * `keepOutputs: false` (private sessions) keeps hashes, never output text.
   */
  slotRecorder(taskId: number, keepOutputs: boolean) {
    let assigned = false;
    const ended = (s: Slot, status: "failed" | "timed_out") =>
      this.setSlot(
        taskId,
        s.slot,
        status,
        () => this.sql`UPDATE assignments SET error = ${s.error ?? null}, ended_at = ${this.now()} WHERE task_id = ${taskId} AND slot = ${s.slot}`,
      );
    const result = (s: Slot, at: number, late: boolean): SlotFields => ({
      precommitted_at: at,
      latency_ms: s.output?.latencyMs ?? null,
      precommit_hash: s.hash ?? null,
      output: keepOutputs ? (s.output?.text ?? null) : null,
      usage: s.output?.usage ? JSON.stringify(s.output.usage) : null,
      usage_misreport: s.usageMisreport ?? null,
      late: late ? 1 : 0,
    });
    return {
      assigned: (s: Slot) => {
        const at = this.now();
        // Its history lines join the held ones (the task's `queued`, a finished slot's ack...): all in one statement, in order.
        this.unwritten.hold(taskId, { slot: s.slot, state: "assigned", at, fields: {}, historyOnly: true });
        // The task's first assignment: its row says `assigned` too (the slot's line first). A row inserted `assigned` in this
        // turn, or held in memory as such (`insertTask`'s `assigned` and `unrecorded`), already does, so only the line is held.
        if (!assigned) {
          const inserted = this.insertedAssigned === taskId;
          this.unwritten.hold(taskId, inserted ? { slot: null, state: "assigned", at, historyOnly: true } : { slot: null, state: "assigned", at });
        }
        if (this.insertedAssigned === taskId) this.insertedAssigned = undefined;
        assigned = true;
        const unrecorded = this.unrecorded.get(taskId);
        if (unrecorded) {
          unrecorded.assignments.push(assignedRow(taskId, s, at));
          return;
        }
        const insert = () => this.insertAssignment(assignedRow(taskId, s, at));
        // Nothing held but `assigned` lines (a warm task's first turn: its row was inserted `assigned`): they wait for the
        // task's next write of its row, no statement of their own (a restart rebuilds them from the rows: task-history.ts).
        if (this.unwritten.onlyAssignedLines(taskId)) {
          insert();
          return;
        }
        this.storage.transactionSync(() => {
          insert();
          this.writeHeld(taskId);
        });
      },
      acked: (s: Slot) => {
        const at = this.now();
        this.unwritten.hold(taskId, { slot: s.slot, state: "acked", at, fields: { acked_at: at } });
      },
      precommitted: (s: Slot) => {
        const at = this.now();
        this.unwritten.hold(taskId, { slot: s.slot, state: "precommitted", at, fields: result(s, at, false) });
      },
      failed: (s: Slot) => ended(s, "failed"),
      timedOut: (s: Slot) => ended(s, "timed_out"),
      commitOpened: () => this.unwritten.hold(taskId, { slot: null, state: "precommitted", at: this.now() }),
      late: (s: Slot) => {
        const at = this.now();
        const judged = { agreed: s.agreed ? 1 : 0, similarity: s.similarity ?? null, ended_at: at };
        this.unwritten.hold(taskId, { slot: s.slot, state: "ended", at, fields: { ...result(s, at, true), ...judged } });
      },
    };
  }

  /**
   * Writes a task's held changes: one update per slot touched, the task's last status (and its result, when given), the
   * history lines in the order they happened (then `after`'s), appended by the row's update, or by an update of their own
   * where the task's row has none (task-history.ts).
   */
  private writeHeld(taskId: number, result?: StoredResult, after: readonly TaskEventRow[] = []) {
    const held = this.unwritten.take(taskId);
    const unrecorded = this.unrecorded.get(taskId);
    if (unrecorded) {
      this.unrecorded.drop(taskId);
      this.insertUnrecorded(unrecorded, held, result, after);
      return;
    }
    if (!held) {
      if (after.length > 0) this.appendHistory(taskId, after);
      return;
    }
    for (const [slot, { status, fields: f }] of held.slots) {
      this.sql`UPDATE assignments SET status = COALESCE(${status}, status),
                 acked_at = COALESCE(${f.acked_at ?? null}, acked_at), precommitted_at = COALESCE(${f.precommitted_at ?? null}, precommitted_at),
                 ended_at = COALESCE(${f.ended_at ?? null}, ended_at), latency_ms = COALESCE(${f.latency_ms ?? null}, latency_ms),
                 precommit_hash = COALESCE(${f.precommit_hash ?? null}, precommit_hash), output = COALESCE(${f.output ?? null}, output),
                 usage = COALESCE(${f.usage ?? null}, usage), usage_misreport = COALESCE(${f.usage_misreport ?? null}, usage_misreport), agreed = COALESCE(${f.agreed ?? null}, agreed),
                 similarity = COALESCE(${f.similarity ?? null}, similarity), late = COALESCE(${f.late ?? null}, late),
                 report = COALESCE(${f.report ?? null}, report), report_seq = COALESCE(${f.report_seq ?? null}, report_seq), report_at = COALESCE(${f.report_at ?? null}, report_at)
               WHERE task_id = ${taskId} AND slot = ${slot}`;
    }
    const lines = after.length === 0 ? held.events : [...held.events, ...after];
    // A held change of the task is a line of its history: the row's update always has lines to append.
    if (held.task && result !== undefined) {
      this.sql`UPDATE tasks SET status = ${held.task.status}, updated_at = ${held.task.at}, result = ${result.json}, result_text_slot = ${result.textSlot},
                 result_urn = COALESCE(${result.resultUrn}, result_urn), reward_micros = ${result.rewardMicros},
                 receipt = ${result.receipt?.json ?? null}, receipt_outputs_in_assignments = ${result.receipt?.outputsInAssignments ? 1 : 0},
                 history = COALESCE(substr(history, 1, length(history) - 1) || ',', '[') || substr(${historyJson(lines)}, 2)
               WHERE task_id = ${taskId}`;
      return;
    }
    if (held.task) {
      this.sql`UPDATE tasks SET status = ${held.task.status}, updated_at = ${held.task.at},
                 history = COALESCE(substr(history, 1, length(history) - 1) || ',', '[') || substr(${historyJson(lines)}, 2)
               WHERE task_id = ${taskId}`;
      return;
    }
    if (result !== undefined) {
      this.sql`UPDATE tasks SET result = ${result.json}, result_text_slot = ${result.textSlot},
                 result_urn = COALESCE(${result.resultUrn}, result_urn), reward_micros = ${result.rewardMicros},
                 receipt = ${result.receipt?.json ?? null}, receipt_outputs_in_assignments = ${result.receipt?.outputsInAssignments ? 1 : 0}
               WHERE task_id = ${taskId}`;
    }
    if (lines.length > 0) this.appendHistory(taskId, lines);
  }

  /**
   * A task recorded only now (`unrecorded`): its row, with its history, and its assignments' rows inserted once, with
   * their held changes and its result applied, so the outcome costs no update of a row inserted in the same turn.
   */
  private insertUnrecorded({ row, assignments }: Unrecorded, held: Coalesced | undefined, result: StoredResult | undefined, after: readonly TaskEventRow[]) {
    const status = held?.task ? { status: held.task.status, updated_at: held.task.at } : {};
    const outcome = result ? { result: result.json, result_text_slot: result.textSlot, result_urn: result.resultUrn } : {};
    this.insertTaskRow({ ...row, ...status, ...outcome }, result?.rewardMicros ?? null, [...(held?.events ?? []), ...after], result?.receipt ?? null);
    for (const a of assignments) {
      const change = held?.slots.get(a.slot);
      this.insertAssignment(change ? { ...a, ...change.fields, status: change.status ?? a.status } : a);
    }
  }

  /** A task's row inserted whole, with what it paid its miners, its history's lines and (inserted with its outcome) its receipt. */
  private insertTaskRow(r: TaskRow, rewardMicros: number | null, lines: readonly TaskEventRow[], receipt: StoredReceipt | null = null) {
    this.sql`INSERT INTO tasks (task_id, request_id, request_hash, status, kind, request, redundancy, created_at, updated_at, precommit_deadline_at, deadline_at,
                                payload_version, prompt_urn, result, error, result_text_slot, result_urn, miner_pin, reward_micros, history,
                                receipt, receipt_outputs_in_assignments)
             VALUES (${r.task_id}, ${r.request_id}, ${r.request_hash}, ${r.status}, ${r.kind}, ${r.request}, ${r.redundancy}, ${r.created_at}, ${r.updated_at},
                     ${r.precommit_deadline_at}, ${r.deadline_at}, ${r.payload_version}, ${r.prompt_urn}, ${r.result}, ${r.error}, ${r.result_text_slot},
                     ${r.result_urn}, ${r.miner_pin ?? null}, ${rewardMicros}, ${lines.length === 0 ? null : historyJson(lines)},
                     ${receipt?.json ?? null}, ${receipt?.outputsInAssignments ? 1 : 0})`;
  }

  /** An assignment's row inserted whole (its report's batch is set only once sent, pending-reports.ts). */
  private insertAssignment(a: AssignmentRow) {
    this.sql`INSERT INTO assignments (task_id, slot, miner_id, status, assigned_at, probation, acked_at, precommitted_at, ended_at, latency_ms, precommit_hash,
                                      output, usage, usage_misreport, agreed, similarity, late, error, result_urn, report, report_seq, report_at)
             VALUES (${a.task_id}, ${a.slot}, ${a.miner_id}, ${a.status}, ${a.assigned_at}, ${a.probation}, ${a.acked_at}, ${a.precommitted_at}, ${a.ended_at},
                     ${a.latency_ms}, ${a.precommit_hash}, ${a.output}, ${a.usage}, ${a.usage_misreport}, ${a.agreed}, ${a.similarity}, ${a.late}, ${a.error},
                     ${a.result_urn}, ${a.report}, ${a.report_seq}, ${a.report_at})`;
  }

  /** Lines of the task's history, in a write with no other statement of its row (a late result, a failed slot). */
  private appendHistory(taskId: number, lines: readonly TaskEventRow[]) {
    this.sql`UPDATE tasks SET history = COALESCE(substr(history, 1, length(history) - 1) || ',', '[') || substr(${historyJson(lines)}, 2)
             WHERE task_id = ${taskId}`;
  }

  /** The task's status, its line (after `before`'s) appended to its history in the same update. */
  setStatus(taskId: number, status: TaskStatus, before: readonly TaskEventRow[] = []) {
    const now = this.now();
    const lines = [...before, { slot: null, state: status, at: now }];
    this.sql`UPDATE tasks SET status = ${status}, updated_at = ${now},
               history = COALESCE(substr(history, 1, length(history) - 1) || ',', '[') || substr(${historyJson(lines)}, 2)
             WHERE task_id = ${taskId}`;
  }

  private setSlot(taskId: number, slot: number, status: string, extra: () => void) {
    this.storage.transactionSync(() => {
      this.writeHeld(taskId, undefined, [{ slot, state: status, at: this.now() }]);
      this.sql`UPDATE assignments SET status = ${status} WHERE task_id = ${taskId} AND slot = ${slot}`;
      extra();
    });
  }
}
