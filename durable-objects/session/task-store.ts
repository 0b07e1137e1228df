import type { Slot } from "../../workers/protocol/run-task";
import type { MinerRequest } from "../../workers/schemas/completion";
import type { SessionConfig } from "../../workers/schemas/session";
import { nextTaskId, type ShardLayout } from "../../workers/sessions/shard-layout";
import type { Sql } from "../sqlite-object";
import type { AssignmentRow, SessionRow, StoredError, TaskEventRow, TaskRow, TaskStatus } from "./schema";

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
 * The Session object's records: its configuration, its tasks and every
 * miner assignment through their states, each change with its timestamp in
 * `task_events`. Plain SQL, no policy: the object decides, this writes.
 */
export class TaskStore {
  constructor(
    private readonly sql: Sql,
    private readonly storage: DurableObjectStorage,
    private readonly now: () => number,
  ) {}

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
    return this.sql<{ n: number }>`SELECT COUNT(*) AS n FROM tasks`[0]?.n ?? 0;
  }

  // --- reading tasks -------------------------------------------------------

  task(taskId: number): TaskRow | undefined {
    return this.sql<TaskRow>`SELECT * FROM tasks WHERE task_id = ${taskId}`[0];
  }

  taskByRequestId(requestId: string): TaskRow | undefined {
    return this.sql<TaskRow>`SELECT * FROM tasks WHERE request_id = ${requestId}`[0];
  }

  tasks(limit: number, before: number): TaskRow[] {
    return this.sql<TaskRow>`SELECT * FROM tasks WHERE task_id < ${before} ORDER BY task_id DESC LIMIT ${limit}`;
  }

  assignments(taskId: number): AssignmentRow[] {
    return this.sql<AssignmentRow>`SELECT * FROM assignments WHERE task_id = ${taskId} ORDER BY slot`;
  }

  events(taskId: number): TaskEventRow[] {
    return this.sql<TaskEventRow>`SELECT slot, state, at FROM task_events WHERE task_id = ${taskId} ORDER BY id`;
  }

  slotOf(taskId: number, minerId: string): number | undefined {
    return this.sql<{ slot: number }>`SELECT slot FROM assignments WHERE task_id = ${taskId} AND miner_id = ${minerId}`[0]?.slot;
  }

  /** Whether the miner's assignment to the task is still open (assigned or acked). */
  isAssignmentOpen(taskId: number, minerId: string): boolean {
    return this.sql`SELECT 1 AS one FROM assignments WHERE task_id = ${taskId} AND miner_id = ${minerId} AND status IN ('assigned', 'acked')`.length > 0;
  }

  overdue(now: number): TaskRow[] {
    return this.sql<TaskRow>`SELECT * FROM tasks WHERE status NOT IN ('ended', 'failed', 'timed_out') AND deadline_at <= ${now}`;
  }

  earliestOpenDeadline(): number | null {
    return this.sql<{ at: number | null }>`SELECT MIN(deadline_at) AS at FROM tasks WHERE status NOT IN ('ended', 'failed', 'timed_out')`[0]?.at ?? null;
  }

  // --- writing tasks -------------------------------------------------------

  /** The id shard 0 gives next, whatever the layout (the base of a first sharding is above it). */
  nextOwnId(): number {
    return (this.sql<{ largest: number | null }>`SELECT MAX(task_id) AS largest FROM tasks`[0]?.largest ?? -1) + 1;
  }

  /** A new task, queued, with this shard's next id under the layout. */
  insertTask(task: NewTask, layout: ShardLayout, shard: number): number {
    return this.storage.transactionSync(() => {
      const from = layout.base ?? 0;
      const largest = this.sql<{ largest: number | null }>`SELECT MAX(task_id) AS largest FROM tasks WHERE task_id >= ${from}`[0]?.largest ?? null;
      const taskId = nextTaskId(layout, shard, largest);
      this.sql`INSERT INTO tasks (task_id, request_id, request_hash, status, kind, request, redundancy, created_at, updated_at, precommit_deadline_at, deadline_at, payload_version)
               VALUES (${taskId}, ${task.requestId}, ${task.requestHash}, 'queued', ${task.kind}, ${JSON.stringify(task.recorded)},
                       ${task.redundancy}, ${task.createdAt}, ${task.createdAt}, ${task.precommitDeadline}, ${task.deadline}, ${task.payloadVersion})`;
      this.event(taskId, null, "queued");
      return taskId;
    });
  }

  setPromptUrn(taskId: number, urn: string) {
    this.sql`UPDATE tasks SET prompt_urn = ${urn} WHERE task_id = ${taskId}`;
  }

  setResultUrn(taskId: number, urn: string | null) {
    this.sql`UPDATE tasks SET result_urn = ${urn} WHERE task_id = ${taskId}`;
  }

  setAssignmentResultUrn(taskId: number, minerId: string, urn: string) {
    this.sql`UPDATE assignments SET result_urn = ${urn} WHERE task_id = ${taskId} AND miner_id = ${minerId}`;
  }

  /** The task committed: each precommitted slot with its agreement, the (sealed) result, then ended. */
  commit(taskId: number, slots: readonly Slot[], sealedResult: string) {
    const now = this.now();
    this.storage.transactionSync(() => {
      for (const s of slots) {
        if (s.state !== "precommitted") continue;
        this.sql`UPDATE assignments SET status = 'committed', agreed = ${s.agreed ? 1 : 0}, similarity = ${s.similarity ?? null} WHERE task_id = ${taskId} AND slot = ${s.slot}`;
        this.event(taskId, s.slot, "committed");
      }
      this.setStatus(taskId, "committed");
      this.sql`UPDATE tasks SET result = ${sealedResult} WHERE task_id = ${taskId}`;
      this.sql`UPDATE assignments SET status = 'ended', ended_at = ${now} WHERE task_id = ${taskId} AND status = 'committed'`;
      this.setStatus(taskId, "ended");
    });
  }

  /** Forgets a task that never reached a miner, as if it had not been submitted. */
  discard(taskId: number) {
    this.storage.transactionSync(() => {
      this.sql`DELETE FROM task_events WHERE task_id = ${taskId}`;
      this.sql`DELETE FROM assignments WHERE task_id = ${taskId}`;
      this.sql`DELETE FROM tasks WHERE task_id = ${taskId}`;
    });
  }

  /**
   * The task failed or timed out; its error is kept so that a replay answers
   * the same. `judged`: the slots of a task that had results but failed its
   * consensus policy, whose agreement is recorded all the same.
   */
  fail(taskId: number, status: "failed" | "timed_out", error: StoredError, judged: readonly Slot[] = []) {
    this.storage.transactionSync(() => {
      for (const s of judged) {
        if (s.state !== "precommitted") continue;
        this.sql`UPDATE assignments SET agreed = ${s.agreed ? 1 : 0}, similarity = ${s.similarity ?? null} WHERE task_id = ${taskId} AND slot = ${s.slot}`;
      }
      this.sql`UPDATE tasks SET error = ${JSON.stringify(error)} WHERE task_id = ${taskId}`;
      this.setStatus(taskId, status);
    });
  }

  /** A task found open past its deadline by an object that no longer runs it (it restarted). */
  timeOutOrphan(taskId: number, error: StoredError) {
    const now = this.now();
    this.storage.transactionSync(() => {
      this.sql`UPDATE assignments SET status = 'timed_out', ended_at = ${now}, error = 'task timed out'
               WHERE task_id = ${taskId} AND status IN ('assigned', 'acked', 'precommitted')`;
      this.sql`UPDATE tasks SET error = ${JSON.stringify(error)} WHERE task_id = ${taskId}`;
      this.setStatus(taskId, "timed_out");
    });
  }

  /**
   * The protocol engine's events for one task, each recorded as it happens.
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
    return {
      assigned: (s: Slot) => {
        this.storage.transactionSync(() => {
          this.sql`INSERT INTO assignments (task_id, slot, miner_id, status, assigned_at) VALUES (${taskId}, ${s.slot}, ${s.miner.id}, 'assigned', ${this.now()})`;
          this.event(taskId, s.slot, "assigned");
          if (!assigned) {
            assigned = true;
            this.setStatus(taskId, "assigned");
          }
        });
      },
      acked: (s: Slot) => this.setSlot(taskId, s.slot, "acked", () => this.sql`UPDATE assignments SET acked_at = ${this.now()} WHERE task_id = ${taskId} AND slot = ${s.slot}`),
      precommitted: (s: Slot) => this.setSlot(taskId, s.slot, "precommitted", () => this.recordResult(taskId, s, { late: false, keepOutputs })),
      failed: (s: Slot) => ended(s, "failed"),
      timedOut: (s: Slot) => ended(s, "timed_out"),
      commitOpened: () => this.setStatus(taskId, "precommitted"),
      late: (s: Slot) =>
        this.setSlot(taskId, s.slot, "ended", () => {
          this.recordResult(taskId, s, { late: true, keepOutputs });
          this
            .sql`UPDATE assignments SET agreed = ${s.agreed ? 1 : 0}, similarity = ${s.similarity ?? null}, ended_at = ${this.now()} WHERE task_id = ${taskId} AND slot = ${s.slot}`;
        }),
    };
  }

  private recordResult(taskId: number, s: Slot, options: { late: boolean; keepOutputs: boolean }) {
    this.sql`UPDATE assignments SET precommitted_at = ${this.now()}, latency_ms = ${s.output?.latencyMs ?? null},
               precommit_hash = ${s.hash ?? null}, output = ${options.keepOutputs ? (s.output?.text ?? null) : null},
               usage = ${s.output?.usage ? JSON.stringify(s.output.usage) : null}, late = ${options.late ? 1 : 0}
             WHERE task_id = ${taskId} AND slot = ${s.slot}`;
  }

  private event(taskId: number, slot: number | null, state: string) {
    this.sql`INSERT INTO task_events (task_id, slot, state, at) VALUES (${taskId}, ${slot}, ${state}, ${this.now()})`;
  }

  setStatus(taskId: number, status: TaskStatus) {
    this.sql`UPDATE tasks SET status = ${status}, updated_at = ${this.now()} WHERE task_id = ${taskId}`;
    this.event(taskId, null, status);
  }

  private setSlot(taskId: number, slot: number, status: string, extra: () => void) {
    this.storage.transactionSync(() => {
      this.sql`UPDATE assignments SET status = ${status} WHERE task_id = ${taskId} AND slot = ${slot}`;
      extra();
      this.event(taskId, slot, status);
    });
  }
}
