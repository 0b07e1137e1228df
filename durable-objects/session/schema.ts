import type { ApiError, ErrorBody } from "../../domain/errors";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The Session object's tables, in the order they were introduced; docs/storage-schema.md shows them as they are. */
export const SESSION_MIGRATIONS = [
  `CREATE TABLE session (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     session_id INTEGER NOT NULL,
     config TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE tasks (
     task_id INTEGER PRIMARY KEY,
     request_id TEXT UNIQUE,
     request_hash TEXT NOT NULL,
     status TEXT NOT NULL,
     kind TEXT NOT NULL,
     request TEXT NOT NULL,
     redundancy INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     precommit_deadline_at INTEGER NOT NULL,
     deadline_at INTEGER NOT NULL,
     result TEXT,
     error TEXT
   );
   CREATE INDEX tasks_open ON tasks (deadline_at) WHERE status NOT IN ('ended', 'failed', 'timed_out');
   CREATE TABLE assignments (
     task_id INTEGER NOT NULL,
     slot INTEGER NOT NULL,
     miner_id TEXT NOT NULL,
     status TEXT NOT NULL,
     assigned_at INTEGER NOT NULL,
     acked_at INTEGER,
     precommitted_at INTEGER,
     ended_at INTEGER,
     latency_ms INTEGER,
     precommit_hash TEXT,
     output TEXT,
     usage TEXT,
     agreed INTEGER,
     similarity REAL,
     late INTEGER NOT NULL DEFAULT 0,
     error TEXT,
     PRIMARY KEY (task_id, slot)
   );
   CREATE TABLE task_events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     task_id INTEGER NOT NULL,
     slot INTEGER,
     state TEXT NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE INDEX task_events_task ON task_events (task_id);`,
  `ALTER TABLE tasks ADD COLUMN payload_version TEXT;
   ALTER TABLE tasks ADD COLUMN prompt_urn TEXT;
   ALTER TABLE tasks ADD COLUMN result_urn TEXT;
   ALTER TABLE assignments ADD COLUMN result_urn TEXT;
   CREATE TABLE payloads (
     object_key TEXT PRIMARY KEY,
     backend INTEGER NOT NULL,
     task_id INTEGER NOT NULL,
     expires_at INTEGER
   );
   CREATE INDEX payloads_expiry ON payloads (expires_at) WHERE expires_at IS NOT NULL;`,
  // Miner outcome reports not yet acknowledged by the registry (see pending-reports.ts).
  `CREATE TABLE pending_reports (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     batch_id TEXT,
     miner_id TEXT NOT NULL,
     outcome TEXT NOT NULL,
     latency_ms REAL,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX pending_reports_batch ON pending_reports (batch_id);`,
  // Shards (see domain/sessions/shard-layout.ts): which shard this object is, the settings' version, the layout.
  `ALTER TABLE session ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE session ADD COLUMN version TEXT NOT NULL DEFAULT '';
   ALTER TABLE session ADD COLUMN layout TEXT;`,
  // One receipt per ended task, signed on first read (see task-receipts.ts).
  `CREATE TABLE receipts (
     task_id INTEGER PRIMARY KEY,
     body TEXT NOT NULL,
     router_signature TEXT
   );`,
  // Miner rewards not yet acknowledged by the payout accounts' Ledgers (see pending-rewards.ts).
  `CREATE TABLE pending_rewards (
     task_id INTEGER NOT NULL,
     miner_id TEXT NOT NULL,
     account TEXT NOT NULL,
     amount_micros INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (task_id, miner_id)
   );`,
  // The outbox also carries slashes (kind 'slash', share_bps of the stake) and each reward's role and slot.
  `ALTER TABLE pending_rewards ADD COLUMN kind TEXT NOT NULL DEFAULT 'reward';
   ALTER TABLE pending_rewards ADD COLUMN role TEXT NOT NULL DEFAULT 'validator';
   ALTER TABLE pending_rewards ADD COLUMN slot INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE pending_rewards ADD COLUMN share_bps INTEGER NOT NULL DEFAULT 0;`,
  // Why a miner's reported usage (kept in \`usage\`, for audit) was not believable: domain/metering/usage-audit.ts.
  `ALTER TABLE assignments ADD COLUMN usage_misreport TEXT;`,
  // A reward's source and its task's funding (domain/rewards/reward-sources.ts): the source account issues it, bounded by them.
  // Rows from before name no source: they are sent as the emission pool's, with the per-token amount they were computed at as their fund.
  `ALTER TABLE pending_rewards ADD COLUMN source TEXT NOT NULL DEFAULT 'emission';
   ALTER TABLE pending_rewards ADD COLUMN source_kind TEXT NOT NULL DEFAULT 'emission';
   ALTER TABLE pending_rewards ADD COLUMN fund_micros INTEGER;
   ALTER TABLE pending_rewards ADD COLUMN paid_micros INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE pending_rewards ADD COLUMN budget_micros INTEGER;`,
  // Tasks by creation time: the metrics' windows (task-series.ts, the last minute in task-metrics.ts) read only their range.
  `CREATE INDEX tasks_created ON tasks (created_at);`,
  // What each committed task paid its miners (micros), written with its rewards (pending-rewards.ts): the outbox forgets a
  // reward once delivered, the task keeps its sum (the NeuroShard proofs' `reward`, metrics' `rewards`). NULL: decided before.
  `ALTER TABLE tasks ADD COLUMN reward_micros INTEGER;`,
  // Whether the assignment's miner was on probation when picked (domain/miners/probation.ts): the task view says so.
  `ALTER TABLE assignments ADD COLUMN probation INTEGER NOT NULL DEFAULT 0;`,
  // The miners a chain task's on-chain session or task names, and which of them the router could not reach (domain/miners/miner-pin.ts).
  `ALTER TABLE tasks ADD COLUMN miner_pin TEXT;`,
  // A public task's output text stored once, in its assignment's \`output\` (stored-text.ts): \`tasks.result\` holds null in place of
  // its answer's text and names the slot that holds it; a receipt's body holds null in place of its miners' outputs. Rows from before
  // (NULL, 0) and private sessions' (sealed) hold their text.
  `ALTER TABLE tasks ADD COLUMN result_text_slot INTEGER;
   ALTER TABLE receipts ADD COLUMN outputs_in_assignments INTEGER NOT NULL DEFAULT 0;`,
  // A task's payloads by task: a v2/v3 task's end sets their expiry (\`expireTask\`), which without it scanned every row the
  // retention period keeps (7 days of tasks' prompts and results), once a task.
  `CREATE INDEX payloads_task ON payloads (task_id);`,
  // The assignments are the outbox of miner outcome reports (pending-reports.ts): a slot's report (its outcome, which the row
  // alone cannot tell: a failure's fault is not stored) is written in the update that records the slot's end, with its place
  // in the queue (\`report_seq\`, NULL once the registry acknowledged it) and its time; no row of its own a task. Reports queued
  // before this migration stay in \`pending_reports\`, which nothing writes any more: they are sent first, under their batch ids.
  `ALTER TABLE assignments ADD COLUMN report TEXT;
   ALTER TABLE assignments ADD COLUMN report_seq INTEGER;
   ALTER TABLE assignments ADD COLUMN report_at INTEGER;
   ALTER TABLE assignments ADD COLUMN report_batch TEXT;
   CREATE INDEX assignments_reports ON assignments (report_seq) WHERE report_seq IS NOT NULL;`,
  // Task ids handed out ahead of their tasks' rows (task-ids.ts): a task recorded only with its outcome has its id reserved
  // first, a block at a time, so an object that restarts never gives a lost task's id to another. NULL: none reserved.
  `ALTER TABLE session ADD COLUMN ids_reserved INTEGER;`,
  // A task's history in its own row (task-history.ts): a compact JSON array of its lines, appended by the statements that
  // already write the row, not a row of \`task_events\` each (an AUTOINCREMENT table with an index, a multi-row insert in each
  // write turn). \`task_events\` keeps the lines of the tasks written before, read first; nothing writes it any more.
  `ALTER TABLE tasks ADD COLUMN history TEXT;`,
  // A task's receipt in its own row (task-receipts.ts): its body as stored (\`receipt_outputs_in_assignments\` as
  // \`receipts.outputs_in_assignments\`), written by the statement that records the task's outcome (its row's insert, or its
  // update), not a row of \`receipts\` each; its signature set on first read. \`receipts\` keeps the receipts of the tasks
  // written before, read when the row has none; nothing inserts into it any more (an old receipt's signature is still
  // stored there on its first read).
  `ALTER TABLE tasks ADD COLUMN receipt TEXT;
   ALTER TABLE tasks ADD COLUMN receipt_outputs_in_assignments INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE tasks ADD COLUMN receipt_signature TEXT;`,
  // A task as its reads want it (task-store.ts): \`TaskRow\`'s columns, without the receipt's (only task-receipts.ts reads
  // those), so a view, a list page or a request-id lookup never reads a receipt's body.
  `CREATE VIEW task_rows AS
     SELECT task_id, request_id, request_hash, status, kind, request, redundancy, created_at, updated_at, precommit_deadline_at, deadline_at,
            result, error, payload_version, prompt_urn, result_urn, miner_pin, result_text_slot, history
     FROM tasks;`,
] as const;

export type TaskStatus = "queued" | "assigned" | "precommitted" | "committed" | "ended" | "failed" | "timed_out";
export const OPEN_STATUSES = ["queued", "assigned", "precommitted", "committed"] as const;

export type SessionRow = {
  session_id: number;
  config: string;
  created_at: number;
  updated_at: number;
  /** 0: the session's own object, where it is configured; k: a shard holding a copy of the settings. */
  shard: number;
  /** Changes with every change of the settings; what routing is fenced by. */
  version: string;
  /** A `ShardLayout` as JSON; null: never sharded. */
  layout: string | null;
};

export type TaskRow = {
  task_id: number;
  request_id: string | null;
  request_hash: string;
  status: TaskStatus;
  kind: string;
  request: string;
  redundancy: number;
  created_at: number;
  updated_at: number;
  precommit_deadline_at: number;
  deadline_at: number;
  /** The client's completion as JSON, sealed for private sessions. */
  result: string | null;
  /** A `StoredError` as JSON. */
  error: string | null;
  payload_version: "v2" | "v3" | null;
  prompt_urn: string | null;
  result_urn: string | null;
  /** A chain task's `PinNote` as JSON (domain/miners/miner-pin.ts); null for every other task. */
  miner_pin?: string | null;
  /** The slot whose assignment's `output` is the answer's text, left out of `result` (null there); null: `result` holds it. */
  result_text_slot: number | null;
  /** The task's history lines written since `task_events` was left (task-history.ts); null: none (or all in `task_events`). */
  history?: string | null;
};

export type AssignmentRow = {
  task_id: number;
  slot: number;
  miner_id: string;
  status: string;
  assigned_at: number;
  acked_at: number | null;
  precommitted_at: number | null;
  ended_at: number | null;
  latency_ms: number | null;
  precommit_hash: string | null;
  output: string | null;
  /** The miner's own reported usage as JSON, kept for audit: what is billed is the router's count. */
  usage: string | null;
  /** Why that report was not believable (a fault of the miner), or null. */
  usage_misreport: string | null;
  /** 1: the miner was on probation when picked. */
  probation: number;
  agreed: number | null;
  similarity: number | null;
  late: number;
  error: string | null;
  result_urn: string | null;
  /** The outcome reported to the registry for this slot (pending-reports.ts); null: none queued (yet). */
  report: string | null;
  /** Its place in the report queue; null: not waiting (none queued, or acknowledged by the registry). */
  report_seq: number | null;
  /** When the report was queued (its flush is due FLUSH_INTERVAL_MS later). */
  report_at: number | null;
  /** The batch it was first sent in, kept for retries; null until sent, and once acknowledged. */
  report_batch: string | null;
};

export type TaskEventRow = { slot: number | null; state: string; at: number };

/** How a failed task's error is stored (`tasks.error`), so that a replay answers the same. */
export type StoredError = { status: ContentfulStatusCode; body: ErrorBody };

export const storedError = (err: ApiError): StoredError => ({ status: err.status, body: err.toBody() });
