import { DurableObject } from "cloudflare:workers";
import type { Env } from "../workers/env";
import { loadConfig } from "../workers/config/config";
import { embeddingSourceFor } from "../workers/consensus/embedding";
import { majority } from "../workers/consensus/agreement";
import { callMiner } from "../workers/miners/call-miner";
import { MinerPool } from "../workers/miners/miner-pool";
import type { CompletionRequest, CompletionResponse, MinerRecord, MinerRequest } from "../workers/schemas/completion";
import type { ErrorBody } from "../workers/http/errors";
import type { SessionConfig, Session } from "../workers/schemas/session";
import { runTask, type Slot, type TaskEvents, type TaskOutcome, type TaskRun } from "../workers/tasks/run-task";
import { buildCompletion, streamHead } from "../workers/tasks/build-completion";
import { deltaChunk, finalChunk, SSE_DONE, sseEvent, type StreamHead } from "../workers/http/sse";
import type { MinerOutcomeReport } from "./miner-registry";
import { migrate, sqlOf } from "./sql";
import { registryStub } from "../workers/router/stubs";
import { ApiError } from "../workers/http/errors";
import { issueAssignmentToken, type AssignmentClaims } from "../workers/auth/assignment-token";
import type { MinerTarget } from "../workers/schemas/miner";
import type { MinerOutput } from "../workers/miners/call-miner";
import { TaskPayloads } from "./task-payloads";

const MIGRATIONS = [
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
];


export type TaskStatus = "queued" | "assigned" | "precommitted" | "committed" | "ended" | "failed" | "timed_out";
export type StoredError = { status: 400 | 403 | 404 | 409 | 413 | 502 | 503 | 504; body: ErrorBody };
export type SubmitResult = { ok: true; completion: CompletionResponse; replayed: boolean } | { ok: false; status: StoredError["status"]; body: ErrorBody };

export type Failure = { ok: false; status: StoredError["status"]; body: ErrorBody };
export type DeliveryResult = { ok: true; urn: string; sha256: string } | Failure;
export type PayloadReadResult = { ok: true; text: string } | Failure;

export type StreamResult = SubmitResult | { ok: true; stream: ReadableStream<Uint8Array>; taskId: number };

export type SubmitInput = {
  sessionId: number;
  request: CompletionRequest;
  requestHash: string;
  /** v2/v3: the prompt goes to R2 and miners get its URN; `origin` is where miners reach this router. */
  payload?: { version: "v2" | "v3"; origin: string };
  /** Per-task policy (delegate, validate, factcheck): overrides the session's. */
  policy?: TaskOverrides;
};

export type TaskOverrides = {
  redundancy?: number;
  commitPolicy?: "quorum" | "all";
  selection?: "latency" | "reputation";
  /** Ask miners for a JSON object (OpenAI `response_format`). */
  json?: boolean;
  /** Return every run's output (`runs`), for callers that aggregate themselves. */
  collect?: boolean;
};

type TaskRow = {
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
  result: string | null;
  error: string | null;
  payload_version: "v2" | "v3" | null;
  prompt_urn: string | null;
  result_urn: string | null;
};

type AssignmentRow = {
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
  usage: string | null;
  agreed: number | null;
  similarity: number | null;
  late: number;
  error: string | null;
  result_urn: string | null;
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const failure = (status: StoredError["status"], code: string, message: string, details?: unknown): StoredError => ({
  status,
  body: { error: { code, message, ...(details === undefined ? {} : { details }) } },
});

/**
 * One per session: its configuration, every task and every miner assignment
 * through their states, with timestamps. Runs each task's precommit/commit
 * protocol; an alarm ends any task still open at its deadline, so a task never
 * outlives its timeout whether or not the client is still there.
 */
export class SessionObject extends DurableObject<Env> {
  private readonly sql = sqlOf(this.ctx.storage.sql);
  private readonly running = new Map<number, { run: TaskRun; result: Promise<SubmitResult> }>();
  private readonly pool = new MinerPool((model) => this.registry.candidates(model));
  private readonly payloads = new TaskPayloads(this.env, this.sql);
  /** Off-chain deliveries awaited, by `${taskId}:${minerId}`. */
  private readonly deliveries = new Map<string, { resolve: (o: Omit<MinerOutput, "latencyMs">) => void }>();
  /** Tasks of private sessions: their outputs are not kept in plaintext. */
  private readonly privateTasks = new Set<number>();

  /** False until the session is configured: an unknown session id never gets storage written. */
  private ready: boolean;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.ready = ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_schema'").toArray().length > 0;
    if (this.ready) migrate(ctx.storage, MIGRATIONS);
  }

  private get registry() {
    return registryStub(this.env);
  }

  private sessionRow() {
    if (!this.ready) return undefined;
    return this.sql<{ session_id: number; config: string; created_at: number; updated_at: number }>`SELECT * FROM session WHERE id = 1`[0];
  }

  // --- configuration -------------------------------------------------------

  configure(sessionId: number, config: SessionConfig, options: { create: boolean }): Session | null {
    const existing = this.sessionRow();
    if (options.create === (existing !== undefined)) return null;
    if (!this.ready) {
      migrate(this.ctx.storage, MIGRATIONS);
      this.ready = true;
    }
    const now = Date.now();
    this.sql`INSERT INTO session (id, session_id, config, created_at, updated_at) VALUES (1, ${sessionId}, ${JSON.stringify(config)}, ${now}, ${now})
             ON CONFLICT (id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`;
    return this.getSession();
  }

  getSession(): Session | null {
    const row = this.sessionRow();
    if (!row) return null;
    const config = JSON.parse(row.config) as SessionConfig;
    const count = this.sql<{ n: number }>`SELECT COUNT(*) AS n FROM tasks`[0]?.n ?? 0;
    return {
      id: row.session_id,
      ...config,
      owner: config.owner ?? null,
      created_at: iso(row.created_at)!,
      updated_at: iso(row.updated_at)!,
      task_count: count,
    };
  }

  // --- tasks ---------------------------------------------------------------

  listTasks(options: { limit: number; before?: number }) {
    if (!this.sessionRow()) return null;
    const before = options.before ?? Number.MAX_SAFE_INTEGER;
    const rows = this.sql<TaskRow>`SELECT * FROM tasks WHERE task_id < ${before} ORDER BY task_id DESC LIMIT ${options.limit}`;
    return rows.map((r) => this.taskSummary(r));
  }

  async getTask(taskId: number) {
    const session = this.getSession();
    if (!session) return null;
    const row = this.sql<TaskRow>`SELECT * FROM tasks WHERE task_id = ${taskId}`[0];
    if (!row) return null;
    const assignments = this.sql<AssignmentRow>`SELECT * FROM assignments WHERE task_id = ${taskId} ORDER BY slot`;
    const events = this.sql<{ slot: number | null; state: string; at: number }>`
      SELECT slot, state, at FROM task_events WHERE task_id = ${taskId} ORDER BY id`;
    return {
      ...this.taskSummary(row),
      request: JSON.parse(row.request) as MinerRequest,
      payload_version: row.payload_version,
      prompt_urn: row.prompt_urn,
      result_urn: row.result_urn,
      result: row.result ? await this.payloads.unseal<CompletionResponse>(session, taskId, row.result) : null,
      error: row.error ? (JSON.parse(row.error) as StoredError).body.error : null,
      assignments: assignments.map((a) => ({
        slot: a.slot,
        miner: a.miner_id,
        status: a.status,
        assigned_at: iso(a.assigned_at),
        acked_at: iso(a.acked_at),
        precommitted_at: iso(a.precommitted_at),
        ended_at: iso(a.ended_at),
        latency_ms: a.latency_ms,
        precommit_hash: a.precommit_hash,
        output: a.output,
        result_urn: a.result_urn,
        agreed: a.agreed === null ? null : a.agreed === 1,
        similarity: a.similarity,
        late: a.late === 1,
        error: a.error,
      })),
      events: events.map((e) => ({ slot: e.slot, state: e.state, at: iso(e.at) })),
    };
  }

  /** Whether a task was already submitted under this request id. */
  knowsRequest(requestId: string): boolean {
    return this.sessionRow() !== undefined && this.sql`SELECT 1 AS one FROM tasks WHERE request_id = ${requestId}`.length > 0;
  }

  hasTask(taskId: number): boolean {
    return this.sessionRow() !== undefined && this.sql`SELECT 1 AS one FROM tasks WHERE task_id = ${taskId}`.length > 0;
  }

  private taskSummary(r: TaskRow) {
    return {
      task_id: r.task_id,
      session_id: this.sessionRow()?.session_id ?? null,
      request_id: r.request_id,
      status: r.status,
      kind: r.kind,
      redundancy: r.redundancy,
      created_at: iso(r.created_at),
      updated_at: iso(r.updated_at),
      precommit_deadline_at: iso(r.precommit_deadline_at),
      deadline_at: iso(r.deadline_at),
    };
  }

  /**
   * Runs one completion task to its outcome. A `request_id` seen before
   * returns that task's result and dispatches nothing.
   */
  async submit(input: SubmitInput): Promise<SubmitResult> {
    const started = await this.begin(input);
    return "done" in started ? started.done : started.result;
  }

  /**
   * Like `submit`, for `stream: true`. With redundancy 1, or a session whose
   * stream policy prefers speed, the first miner to produce text streams it
   * live; otherwise the agreed completion comes back whole (the caller
   * streams it), so a client never sees an answer consensus then rejects.
   */
  async submitStream(input: SubmitInput): Promise<StreamResult> {
    const session = this.getSession();
    // Encrypted payload flows answer whole: the route then answers JSON, as for stream: false.
    if (session?.private && input.payload) return this.submit(input);
    const live = session !== null && (session.redundancy === 1 || session.stream_policy === "speed");
    if (!live) return this.submit(input);

    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    // A client that went away must not stop the task: failed writes are dropped.
    const write = (data: string) => void writer.write(sseEvent(data)).catch(() => {});
    let head: StreamHead | undefined;
    let owner: number | undefined;
    let streamed = "";
    let firstPiece!: () => void;
    const first = new Promise<"streaming">((resolve) => (firstPiece = () => resolve("streaming")));

    const started = await this.begin(input, (task) => {
      head = streamHead(task);
      return (slot, piece) => {
        owner ??= slot.slot;
        if (owner !== slot.slot || !head) return;
        write(deltaChunk(head, piece, streamed === ""));
        streamed += piece;
        firstPiece();
      };
    });
    if ("done" in started) return started.done;
    if ((await Promise.race([first, started.result.then(() => "decided" as const)])) === "decided" && streamed === "") {
      return started.result;
    }
    this.ctx.waitUntil(
      started.result.then(async (result) => {
        if (result.ok) {
          const c = result.completion;
          const text = c.choices[0]?.text ?? c.choices[0]?.message?.content ?? "";
          write(
            finalChunk(head!, {
              ...c,
              finishReason: c.choices[0]?.finish_reason ?? "stop",
              ...(text === streamed
                ? {}
                : { error: { code: "stream_superseded", message: `the streamed output was not the agreed one; GET /api/v1/tasks/${c.session_id}/${c.task_id} has the agreed completion` } }),
            }),
          );
        } else {
          write(JSON.stringify(result.body));
        }
        write(SSE_DONE);
        await writer.close().catch(() => {});
      }),
    );
    return { ok: true, stream: readable, taskId: started.taskId };
  }

  private async begin(
    input: SubmitInput,
    live?: (task: { sessionId: number; taskId: number; kind: MinerRequest["kind"]; model: string; created: number }) => TaskEvents["delta"],
  ): Promise<{ done: SubmitResult } | { taskId: number; result: Promise<SubmitResult> }> {
    const done = (r: SubmitResult) => ({ done: r });
    const session = this.getSession();
    if (!session) return done(this.fail(failure(404, "session_not_found", `session ${input.sessionId} does not exist`)));
    if (!session.active) return done(this.fail(failure(409, "session_inactive", `session ${input.sessionId} is deactivated`)));

    const requestId = input.request.request_id ?? null;
    if (requestId !== null) {
      const previous = this.sql<TaskRow>`SELECT * FROM tasks WHERE request_id = ${requestId}`[0];
      if (previous) return done(await this.replay(previous, input.requestHash, session));
    }

    const config = loadConfig(this.env);
    const req = input.request;
    const timeoutS = Math.min(req.timeout ?? config.defaultTimeoutS, config.maxTimeoutS);
    if (req.timeout !== undefined && req.timeout > config.maxTimeoutS) {
      return done(this.fail(failure(400, "invalid_request", `invalid request: timeout: must be at most ${config.maxTimeoutS} seconds`, { issues: [{ field: "timeout", message: `must be at most ${config.maxTimeoutS}` }] })));
    }
    const precommitS = req.precommit_timeout ?? timeoutS * 0.75;
    if (precommitS >= timeoutS) {
      return done(this.fail(failure(400, "invalid_request", "invalid request: timeout: must exceed precommit_timeout", { issues: [{ field: "timeout", message: "must exceed precommit_timeout" }] })));
    }

    const minerRequest: MinerRequest = {
      kind: req.messages ? "chat" : "completion",
      model: session.model,
      ...(req.prompt !== undefined ? { prompt: req.prompt } : {}),
      ...(req.messages !== undefined ? { messages: req.messages } : {}),
      ...(req.max_tokens !== undefined ? { max_tokens: req.max_tokens } : {}),
      ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
      ...(req.top_p !== undefined ? { top_p: req.top_p } : {}),
      ...(req.stop !== undefined ? { stop: req.stop } : {}),
      ...(input.policy?.json ? { response_format: { type: "json_object" as const } } : {}),
    };
    const redundancy = input.policy?.redundancy ?? session.redundancy;
    const payload = input.payload;
    const promptText = req.prompt ?? JSON.stringify(req.messages);
    if (payload) {
      try {
        this.payloads.checkSize(promptText);
      } catch (err) {
        if (err instanceof ApiError) return done(this.fail(failure(413, err.code, err.message)));
        throw err;
      }
    }
    const now = Date.now();
    const taskId = this.sql<{ next: number }>`SELECT COALESCE(MAX(task_id) + 1, 0) AS next FROM tasks`[0]!.next;
    const deadline = now + Math.round(timeoutS * 1000);
    const precommitDeadline = now + Math.round(precommitS * 1000);
    // Off-chain tasks keep only the URN of their prompt, never the text.
    const { prompt: _p, messages: _m, ...params } = minerRequest;
    const recorded = payload ? params : minerRequest;
    this.sql`INSERT INTO tasks (task_id, request_id, request_hash, status, kind, request, redundancy, created_at, updated_at, precommit_deadline_at, deadline_at, payload_version)
             VALUES (${taskId}, ${requestId}, ${input.requestHash}, 'queued', ${minerRequest.kind}, ${JSON.stringify(recorded)},
                     ${redundancy}, ${now}, ${now}, ${precommitDeadline}, ${deadline}, ${payload?.version ?? null})`;
    this.event(taskId, null, "queued");
    if (session.private) this.privateTasks.add(taskId);
    let promptUrn: string | null = null;
    if (payload) {
      try {
        promptUrn = (await this.payloads.store(session, taskId, payload.version, "prompt", promptText)).urn;
        this.sql`UPDATE tasks SET prompt_urn = ${promptUrn} WHERE task_id = ${taskId}`;
      } catch (err) {
        console.error("storing prompt payload failed", err);
        const error = failure(503, "payload_store_unavailable", "the prompt could not be stored");
        this.sql`UPDATE tasks SET error = ${JSON.stringify(error)} WHERE task_id = ${taskId}`;
        this.setStatus(taskId, "failed");
        return done(this.fail(error));
      }
    }
    await this.scheduleAlarm();

    const run = runTask(
      {
        redundancy,
        commitPolicy: input.policy?.commitPolicy ?? session.commit_policy,
        precommitDeadline,
        deadline,
        request: minerRequest,
        threshold: config.similarityThreshold,
      },
      {
        now: Date.now,
        selectMiners: async (count, exclude) => {
          const picked = await this.pool.select(session.model, count, exclude, input.policy?.selection);
          if (picked.length > 0) this.ctx.waitUntil(this.registry.noteDispatched(picked.map((m) => m.id)));
          return picked;
        },
        callMiner: (target, request, options) =>
          payload && promptUrn && target.offchain
            ? this.callOffchainMiner({ sessionId: input.sessionId, taskId, deadline, promptUrn, origin: payload.origin }, target, request, options)
            : callMiner(target, request, options),
        embeddings: embeddingSourceFor(config.embedding),
        events: { ...this.taskEvents(taskId), ...(live ? { delta: live({ sessionId: input.sessionId, taskId, kind: minerRequest.kind, model: session.model, created: now }) } : {}) },
      },
    );
    const result = run.outcome.then((outcome) =>
      this.finish({
        taskId,
        sessionId: input.sessionId,
        session,
        outcome,
        requestId,
        kind: minerRequest.kind,
        threshold: config.similarityThreshold,
        redundancy,
        collect: input.policy?.collect ?? false,
        payload: payload && promptUrn ? { version: payload.version, promptUrn } : undefined,
      }),
    );
    this.running.set(taskId, { run, result });
    this.ctx.waitUntil(
      run.settled
        .then((slots) => this.reportLate(taskId, slots))
        .finally(() => this.running.delete(taskId)),
    );
    return { taskId, result };
  }

  /**
   * Dispatch to a miner that resolves URNs itself: it gets the prompt's URN,
   * where to fetch it and where to deliver the result, and a token good for
   * this task only. It may answer inline, or 202 and deliver off-chain.
   */
  private async callOffchainMiner(
    task: { sessionId: number; taskId: number; deadline: number; promptUrn: string; origin: string },
    target: MinerTarget,
    request: MinerRequest,
    options: { signal: AbortSignal; onAck: () => void; onDelta?: (piece: string) => void },
  ): Promise<MinerOutput> {
    const token = await issueAssignmentToken(loadConfig(this.env).payloadMasterKey, {
      s: task.sessionId,
      t: task.taskId,
      m: target.id,
      exp: task.deadline,
    });
    const origin = loadConfig(this.env).publicUrl ?? task.origin;
    const { prompt: _p, messages: _m, ...params } = request;
    const byUrn: MinerRequest =
      request.kind === "chat" ? { ...params, messages: [{ role: "user", content: task.promptUrn }] } : { ...params, prompt: task.promptUrn };
    return callMiner(target, byUrn, {
      ...options,
      extension: {
        cortensor: {
          session_id: task.sessionId,
          task_id: task.taskId,
          prompt_urn: task.promptUrn,
          payload_format: request.kind === "chat" ? "messages-json" : "text",
          payload_url: `${origin}/api/v3/offchain/payload?urn=${encodeURIComponent(task.promptUrn)}`,
          result_url: `${origin}/api/v3/offchain/result`,
          token,
        },
      },
      awaitDelivery: () => this.awaitDelivery(task.taskId, target.id, options.signal),
    });
  }

  private awaitDelivery(taskId: number, minerId: string, signal: AbortSignal): Promise<Omit<MinerOutput, "latencyMs">> {
    const key = `${taskId}:${minerId}`;
    return new Promise((resolve, reject) => {
      const abort = () => {
        this.deliveries.delete(key);
        reject(signal.reason);
      };
      if (signal.aborted) return abort();
      signal.addEventListener("abort", abort, { once: true });
      this.deliveries.set(key, {
        resolve: (o) => {
          signal.removeEventListener("abort", abort);
          this.deliveries.delete(key);
          resolve(o);
        },
      });
    });
  }

  /** An assigned miner's off-chain result: stored as a payload, then judged like any result. */
  async deliverResult(claims: AssignmentClaims, text: string): Promise<DeliveryResult> {
    const session = this.getSession();
    const task = session ? this.sql<TaskRow>`SELECT * FROM tasks WHERE task_id = ${claims.t}`[0] : undefined;
    const waiter = this.deliveries.get(`${claims.t}:${claims.m}`);
    if (!session || !task || !task.payload_version) return { ok: false, ...failure(404, "task_not_found", `task ${claims.t} has no off-chain payloads`) };
    if (!waiter) {
      return { ok: false, ...failure(409, "not_awaiting_result", `task ${claims.t} is not awaiting a result from miner ${claims.m}`) };
    }
    const slot = this.sql<{ slot: number }>`SELECT slot FROM assignments WHERE task_id = ${claims.t} AND miner_id = ${claims.m}`[0]?.slot ?? 0;
    let stored;
    try {
      stored = await this.payloads.store(session, claims.t, task.payload_version, `result-${slot}`, text);
    } catch (err) {
      if (err instanceof ApiError) return { ok: false, ...failure(err.status === 413 ? 413 : 400, err.code, err.message) };
      throw err;
    }
    this.sql`UPDATE assignments SET result_urn = ${stored.urn} WHERE task_id = ${claims.t} AND miner_id = ${claims.m}`;
    waiter.resolve({ text, finishReason: "stop", usage: null });
    return { ok: true, urn: stored.urn, sha256: stored.sha256 };
  }

  /** The prompt of a task, for a miner assigned to it while its assignment is open. */
  async readPayloadForMiner(claims: AssignmentClaims, urn: string): Promise<PayloadReadResult> {
    const denied = failure(403, "payload_access_denied", "this assignment does not grant access to that payload");
    const session = this.getSession();
    const task = session ? this.sql<TaskRow>`SELECT * FROM tasks WHERE task_id = ${claims.t}`[0] : undefined;
    if (!session || !task || task.prompt_urn !== urn) return { ok: false, ...denied };
    // While the miner's own assignment is open (even after the task was decided: late results count).
    const assigned = this.sql`SELECT 1 AS one FROM assignments WHERE task_id = ${claims.t} AND miner_id = ${claims.m} AND status IN ('assigned', 'acked')`;
    if (assigned.length === 0) return { ok: false, ...denied };
    return { ok: true, text: await this.payloads.read(session, claims.t, urn) };
  }

  private reported = new Map<number, Set<number>>();

  private async report(taskId: number, slots: readonly Slot[]) {
    const seen = this.reported.get(taskId) ?? new Set<number>();
    this.reported.set(taskId, seen);
    const reports: MinerOutcomeReport[] = [];
    for (const s of slots) {
      if (seen.has(s.slot) || s.state === "assigned" || s.state === "acked") continue;
      seen.add(s.slot);
      const outcome: MinerOutcomeReport["outcome"] =
        s.state === "precommitted" ? (s.agreed ? "agreed" : "disagreed") : s.state === "failed" ? "failed" : s.state === "timed_out" ? "timed_out" : "cancelled";
      reports.push({ minerId: s.miner.id, outcome, latencyMs: s.output?.latencyMs ?? null });
      this.pool.release(s.miner.id);
    }
    if (reports.length > 0) await this.registry.reportOutcomes(reports);
  }

  private async reportLate(taskId: number, slots: readonly Slot[]) {
    try {
      await this.report(taskId, slots);
    } finally {
      this.reported.delete(taskId);
    }
  }

  private async finish(task: {
    taskId: number;
    sessionId: number;
    session: Session;
    outcome: TaskOutcome;
    requestId: string | null;
    kind: MinerRequest["kind"];
    threshold: number;
    redundancy: number;
    collect: boolean;
    payload: { version: "v2" | "v3"; promptUrn: string } | undefined;
  }): Promise<SubmitResult> {
    const { taskId, sessionId, session, outcome, requestId, kind, threshold, payload, redundancy } = task;
    const now = Date.now();
    let result: SubmitResult;
    if (outcome.status === "committed") {
      const records: MinerRecord[] = outcome.slots.map((s) => ({
        miner: s.miner.id,
        slot: s.slot,
        status: s.state === "precommitted" ? "committed" : s.state === "assigned" || s.state === "acked" ? "pending" : s.state,
        latency_ms: s.output?.latencyMs ?? null,
        precommit_hash: s.hash ?? null,
        agreed: s.state === "precommitted" ? (s.agreed ?? false) : null,
        similarity: s.similarity ?? null,
      }));
      const completion = buildCompletion({
        sessionId,
        taskId,
        requestId,
        model: session.model,
        kind,
        winner: outcome.winner,
        consensus: {
          redundancy,
          quorum: majority(redundancy),
          agreed: outcome.agreement.agreedIds.length,
          reached: outcome.quorumReached,
          threshold,
          embedding: embeddingSourceFor(loadConfig(this.env).embedding).name,
        },
        miners: records,
        created: now,
      });
      if (task.collect) {
        completion.runs = outcome.slots.map((s) => ({
          miner: s.miner.id,
          slot: s.slot,
          status: s.state === "precommitted" ? "committed" : s.state === "assigned" || s.state === "acked" ? "pending" : s.state,
          output: s.output?.text ?? null,
        }));
      }
      if (payload) {
        const text = outcome.winner.output!.text;
        const resultUrn = (await this.payloads.store(session, taskId, payload.version, "result", text).catch(() => null))?.urn ?? null;
        Object.assign(completion, { prompt_urn: payload.promptUrn, result_urn: resultUrn, encrypted: session.private });
        this.sql`UPDATE tasks SET result_urn = ${resultUrn} WHERE task_id = ${taskId}`;
      }
      const sealed = await this.payloads.seal(session, taskId, completion);
      this.ctx.storage.transactionSync(() => {
        for (const s of outcome.slots) {
          if (s.state !== "precommitted") continue;
          this.sql`UPDATE assignments SET status = 'committed', agreed = ${s.agreed ? 1 : 0}, similarity = ${s.similarity ?? null} WHERE task_id = ${taskId} AND slot = ${s.slot}`;
          this.event(taskId, s.slot, "committed");
        }
        this.setStatus(taskId, "committed");
        this.sql`UPDATE tasks SET result = ${sealed} WHERE task_id = ${taskId}`;
        this.sql`UPDATE assignments SET status = 'ended', ended_at = ${now} WHERE task_id = ${taskId} AND status = 'committed'`;
        this.setStatus(taskId, "ended");
      });
      result = { ok: true, completion, replayed: false };
    } else {
      const error =
        outcome.status === "timed_out"
          ? failure(504, "timeout", `task ${taskId} got no miner result before its timeout`)
          : outcome.reason === "no_miners"
            ? failure(503, "no_miners_available", `no healthy miner with spare capacity serves model ${session.model}`)
            : failure(502, "miners_failed", `every miner assigned to task ${taskId} failed`, {
                miners: outcome.slots.map((s) => ({ miner: s.miner.id, status: s.state, error: s.error ?? null })),
              });
      this.ctx.storage.transactionSync(() => {
        this.sql`UPDATE tasks SET error = ${JSON.stringify(error)} WHERE task_id = ${taskId}`;
        this.setStatus(taskId, outcome.status === "timed_out" ? "timed_out" : "failed");
      });
      result = { ok: false, status: error.status, body: error.body };
    }
    this.payloads.expireTask(taskId, now);
    this.privateTasks.delete(taskId);
    // Reputation is bookkeeping: the client need not wait for it.
    this.ctx.waitUntil(this.report(taskId, outcome.slots).catch((err) => console.error("reputation report failed", err)));
    return result;
  }

  private async replay(previous: TaskRow, requestHash: string, session: Session): Promise<SubmitResult> {
    if (previous.request_hash !== requestHash) {
      return failure409(`request_id ${previous.request_id} was used for a different request`, "idempotency_conflict");
    }
    if (previous.result) {
      return { ok: true, completion: await this.payloads.unseal<CompletionResponse>(session, previous.task_id, previous.result), replayed: true };
    }
    if (previous.error) {
      const stored = JSON.parse(previous.error) as StoredError;
      return { ok: false, status: stored.status, body: stored.body };
    }
    const inFlight = this.running.get(previous.task_id);
    if (inFlight) {
      const result = await inFlight.result;
      return result.ok ? { ...result, replayed: true } : result;
    }
    return failure409(`task ${previous.task_id} for request_id ${previous.request_id} is still running`, "task_in_progress");
  }

  private fail(error: StoredError): SubmitResult {
    return { ok: false, status: error.status, body: error.body };
  }

  // --- recording -----------------------------------------------------------

  private event(taskId: number, slot: number | null, state: string) {
    this.sql`INSERT INTO task_events (task_id, slot, state, at) VALUES (${taskId}, ${slot}, ${state}, ${Date.now()})`;
  }

  private setStatus(taskId: number, status: TaskStatus) {
    this.sql`UPDATE tasks SET status = ${status}, updated_at = ${Date.now()} WHERE task_id = ${taskId}`;
    this.event(taskId, null, status);
  }

  private setSlot(taskId: number, slot: number, status: string, extra: () => void = () => {}) {
    this.ctx.storage.transactionSync(() => {
      this.sql`UPDATE assignments SET status = ${status} WHERE task_id = ${taskId} AND slot = ${slot}`;
      extra();
      this.event(taskId, slot, status);
    });
  }

  private taskEvents(taskId: number) {
    let assigned = false;
    return {
      assigned: (s: Slot) => {
        const now = Date.now();
        this.ctx.storage.transactionSync(() => {
          this.sql`INSERT INTO assignments (task_id, slot, miner_id, status, assigned_at) VALUES (${taskId}, ${s.slot}, ${s.miner.id}, 'assigned', ${now})`;
          this.event(taskId, s.slot, "assigned");
          if (!assigned) {
            assigned = true;
            this.setStatus(taskId, "assigned");
          }
        });
      },
      acked: (s: Slot) =>
        this.setSlot(taskId, s.slot, "acked", () => this.sql`UPDATE assignments SET acked_at = ${Date.now()} WHERE task_id = ${taskId} AND slot = ${s.slot}`),
      precommitted: (s: Slot) =>
        this.setSlot(taskId, s.slot, "precommitted", () => this.recordResult(taskId, s, false)),
      failed: (s: Slot) => {
        // Its health may have changed: pick from a fresh view next time.
        this.pool.invalidate();
        this.setSlot(taskId, s.slot, "failed", () => this.sql`UPDATE assignments SET error = ${s.error ?? null}, ended_at = ${Date.now()} WHERE task_id = ${taskId} AND slot = ${s.slot}`);
      },
      timedOut: (s: Slot) => {
        this.pool.invalidate();
        this.setSlot(taskId, s.slot, "timed_out", () => this.sql`UPDATE assignments SET error = ${s.error ?? null}, ended_at = ${Date.now()} WHERE task_id = ${taskId} AND slot = ${s.slot}`);
      },
      commitOpened: () => this.setStatus(taskId, "precommitted"),
      late: (s: Slot) =>
        this.setSlot(taskId, s.slot, "ended", () => {
          this.recordResult(taskId, s, true);
          this.sql`UPDATE assignments SET agreed = ${s.agreed ? 1 : 0}, similarity = ${s.similarity ?? null}, ended_at = ${Date.now()} WHERE task_id = ${taskId} AND slot = ${s.slot}`;
        }),
    };
  }

  private recordResult(taskId: number, s: Slot, late: boolean) {
    this.sql`UPDATE assignments SET precommitted_at = ${Date.now()}, latency_ms = ${s.output?.latencyMs ?? null},
               precommit_hash = ${s.hash ?? null}, output = ${this.privateTasks.has(taskId) ? null : (s.output?.text ?? null)},
               usage = ${s.output?.usage ? JSON.stringify(s.output.usage) : null}, late = ${late ? 1 : 0}
             WHERE task_id = ${taskId} AND slot = ${s.slot}`;
  }

  // --- deadlines -----------------------------------------------------------

  /** The alarm time as last set by this instance; undefined = unknown (just woke). */
  private alarmAt: number | null | undefined;

  /**
   * Keeps the alarm at or before the earliest open deadline. It is only moved
   * earlier here; an alarm that fires with nothing due reschedules itself, so
   * the hot path rarely writes it.
   */
  private async scheduleAlarm() {
    const deadline = this.sql<{ at: number | null }>`
      SELECT MIN(deadline_at) AS at FROM tasks WHERE status NOT IN ('ended', 'failed', 'timed_out')`[0]?.at ?? null;
    const expiry = this.payloads.nextExpiry();
    const candidates = [deadline, expiry].filter((x): x is number => x !== null);
    if (candidates.length === 0) return;
    const next = Math.min(...candidates);
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt === null || next < this.alarmAt) {
      this.alarmAt = next;
      await this.ctx.storage.setAlarm(next);
    }
  }

  /** Ends every task past its deadline: the run if it is in memory, the record if the object restarted since. */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    if (!this.ready) return;
    const now = Date.now();
    const overdue = this.sql<TaskRow>`
      SELECT * FROM tasks WHERE status NOT IN ('ended', 'failed', 'timed_out') AND deadline_at <= ${now}`;
    for (const task of overdue) {
      const inMemory = this.running.get(task.task_id);
      if (inMemory) {
        inMemory.run.abort("timeout");
        await inMemory.result;
        continue;
      }
      const error = failure(504, "timeout", `task ${task.task_id} did not finish before its timeout`);
      this.ctx.storage.transactionSync(() => {
        this.sql`UPDATE assignments SET status = 'timed_out', ended_at = ${now}, error = 'task timed out'
                 WHERE task_id = ${task.task_id} AND status IN ('assigned', 'acked', 'precommitted')`;
        this.sql`UPDATE tasks SET error = ${JSON.stringify(error)} WHERE task_id = ${task.task_id}`;
        this.setStatus(task.task_id, "timed_out");
        this.payloads.expireTask(task.task_id, now);
      });
    }
    await this.payloads.sweep(now);
    await this.scheduleAlarm();
  }
}

function failure409(message: string, code: string): SubmitResult {
  return { ok: false, status: 409, body: { error: { code, message } } };
}
