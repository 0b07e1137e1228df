import type { AssignmentClaims } from "../../domain/auth/assignment-token";
import { loadConfig } from "../../domain/config/config";
import { embeddingSourceFor } from "../../domain/consensus/embedding";
import type { SessionPeers } from "./session-peers";
import { ApiError, type Failure, toApiError } from "../../domain/errors";
import { callMiner } from "../../domain/miners/call-miner";
import type { ReportedUsage } from "../../domain/miners/miner-output";
import { MinerPool } from "../../domain/miners/miner-pool";
import { signedCalls } from "../../domain/miners/signed-call";
import { streamHead } from "../../domain/protocol/build-completion";
import { runTask, type Slot, type TaskRun } from "../../domain/protocol/run-task";
import { TaskClock } from "../../domain/protocol/task-clock";
import { auditUsage } from "../../domain/metering/usage-audit";
import { type CompletionResponse, CompletionResponseSchema } from "../../domain/schemas/completion";
import { type Session, type SessionConfig, SessionConfigSchema } from "../../domain/schemas/session";
import { nextTaskId, type Routing, relayout, STALE_ROUTING, type ShardLayout, ShardLayoutSchema, type ShardSnapshot, UNSHARDED } from "../../domain/sessions/shard-layout";
import type { Streaming, SubmitInput, Submitted } from "../../domain/sessions/types";
import { settleTask } from "../../domain/rewards/miner-rewards";
import { anchorStub, registryStub, sessionStub } from "../../domain/objects/stubs";
import { SqliteObject } from "../sqlite-object";
import { LiveStream } from "./live-stream";
import { OffchainDelivery } from "./offchain-delivery";
import { OutboxSender } from "./outbox-sender";
import { type SeriesWindow, type ShardSeries, taskSeries } from "./task-series";
import { type ProofCounts, proofCounts, slowestLatencies, type TaskMetrics, type TaskProof, taskMetrics, taskProofs } from "./task-metrics";
import { FLUSH_COUNT, FLUSH_INTERVAL_MS, PendingReports } from "./pending-reports";
import { PendingRewards, paidMicros } from "./pending-rewards";
import { recordOutcome } from "./record-outcome";
import { ReputationReports } from "./reputation-reports";
import { type AssignmentRow, SESSION_MIGRATIONS, type StoredError, storedError, type TaskRow } from "./schema";
import { withAnswerText } from "./stored-text";
import { type ReservedKeys, TaskPayloads } from "./task-payloads";
import { TaskReceipts } from "./task-receipts";
import { type ReceiptBody, receiptPath } from "../../domain/receipts/receipt-schema";
import { receiptLeaf } from "../../domain/receipts/anchor";
import { type Configured, planTask, refusal } from "./task-plan";
import { pinNote } from "../../domain/miners/miner-pin";
import { TaskStore } from "./task-store";
import { privateTaskDetail, taskDetail, taskSummary } from "./task-view";

type Result = Submitted | Failure;
/** A task admitted and recorded, running or already answered (a replay, a refusal). */
type Begun = { done: Result } | { taskId: number; result: Promise<Result> };

const failed = (err: unknown): Failure => toApiError(err).toFailure();

/** What a session reaches: its own shards, the registry, the ledgers it pays, and the payload buckets (by name, through the configuration). */
export type SessionEnv = SessionPeers & { SESSIONS: DurableObjectNamespace<SessionObject> };

/**
 * One per session shard (shard 0 is the session's own object, where it is
 * configured; a session with `shards: n` has n-1 more, holding a copy of the
 * settings): its configuration, every task and every miner assignment
 * through their states. Runs each task's precommit/commit protocol (the
 * engine in domain/protocol); an alarm ends any task still open at its
 * deadline, so a task never outlives its timeout whether or not the client
 * is still there. Methods are RPC: failures come back as `Failure` values.
 */
export class SessionObject extends SqliteObject<SessionEnv> {
  private readonly now = () => Date.now();
  private readonly store = new TaskStore(this.sql, this.ctx.storage, this.now);
  private readonly payloads = new TaskPayloads(this.env, this.sql, this.now);
  private readonly pool = new MinerPool(
    (model) => registryStub(this.env).candidates(model),
    (work) => this.ctx.waitUntil(work),
  );
  private readonly pending = new PendingReports(this.sql, this.now);
  private readonly rewards = new PendingRewards(this.sql, this.now);
  private readonly reports = new ReputationReports((minerId) => this.pool.release(minerId));
  private readonly outbox = new OutboxSender(this.env, this.pending, this.rewards, this.pool);
  private readonly offchain = new OffchainDelivery(this.store, this.payloads, {
    masterKey: loadConfig(this.env).payloadMasterKey,
    publicUrl: loadConfig(this.env).publicUrl,
  });
  private readonly receipts = new TaskReceipts(
    this.sql,
    { signerKey: loadConfig(this.env).signerKey, threshold: loadConfig(this.env).similarityThreshold, embedding: embeddingSourceFor(loadConfig(this.env).embedding).name },
    this.now,
  );
  private readonly running = new Map<number, { run: TaskRun; result: Promise<Result> }>();
  /** The one timer this object's tasks' deadlines wait on: tasks that overlap set and clear none of their own (`task-clock.ts`). */
  private readonly clock = new TaskClock(this.now);
  /** The alarm time as last set by this instance; undefined = unknown (just woke). */
  private alarmAt: number | null | undefined;

  constructor(ctx: DurableObjectState, env: SessionEnv) {
    // Lazy: an unknown session id never gets storage written.
    super(ctx, env, SESSION_MIGRATIONS, { lazy: true });
  }

  /**
   * Queues a receipt's leaf for anchoring on chain, where CHAIN_ANCHOR_ADDRESS is set
   * (domain/receipts/anchor.ts). After the turn that stored the receipt: the
   * receipt stands whether or not it is anchored, and says which.
   */
  private anchorReceipt(body: ReceiptBody): void {
    const chain = loadConfig(this.env).chain;
    const target = chain.state === "configured" ? chain.anchor : null;
    if (!target) return;
    this.ctx.waitUntil(
      receiptLeaf(body)
        .then((leaf) => anchorStub(this.env, target).queueReceipt(target, body.session_id, body.task_id, leaf))
        .catch((err) => console.error(`receipt ${body.session_id}/${body.task_id} not queued for anchoring:`, err)),
    );
  }

  /** The session's settings, read and parsed once: this object is their only writer (`configure`, `adopt`). */
  #configured: Configured | undefined;

  private configured(): Configured | undefined {
    if (this.#configured || !this.hasSchema()) return this.#configured;
    const row = this.store.session();
    this.#configured = row && {
      id: row.session_id,
      config: SessionConfigSchema.parse(JSON.parse(row.config)),
      shard: row.shard,
      version: row.version,
      layout: row.layout === null ? UNSHARDED : ShardLayoutSchema.parse(JSON.parse(row.layout)),
      createdAt: row.created_at,
    };
    return this.#configured;
  }

  // --- configuration -------------------------------------------------------

  /** Creates or updates the session, on its own object (shard 0); a new version of the settings each time. */
  configure(sessionId: number, config: SessionConfig, options: { create: boolean }): Session | null {
    const current = this.configured();
    if (options.create === (current !== undefined) || (current && current.shard !== 0)) return null;
    this.ensureSchema();
    // A new session sharded from the start numbers its tasks by shard from 0; a grown one above its existing ids.
    const layout: ShardLayout = current ? relayout(current.layout, config.shards, this.store.nextOwnId()) : config.shards === 1 ? UNSHARDED : { base: 0, history: [config.shards] };
    this.store.saveSession(sessionId, config, { index: 0, version: crypto.randomUUID(), layout });
    this.#configured = undefined;
    return this.getSession();
  }

  /** What the Worker routes this session's calls by (shard 0 only). */
  routing(): Routing | null {
    const session = this.configured();
    if (session?.shard !== 0) return null;
    return { version: session.version, shards: session.config.shards, layout: session.layout };
  }

  /** The settings as a shard holds them (shard 0 only). */
  snapshot(): ShardSnapshot | null {
    const session = this.configured();
    if (session?.shard !== 0) return null;
    return { sessionId: session.id, config: session.config, version: session.version, layout: session.layout, createdAt: session.createdAt };
  }

  /** A shard (k > 0) takes the session's settings, pushed on every change or pulled when a call shows it is behind. */
  adopt(shard: number, snapshot: ShardSnapshot): boolean {
    const current = this.configured();
    if (shard < 1 || current?.shard === 0) return false;
    this.ensureSchema();
    this.store.saveSession(snapshot.sessionId, snapshot.config, { index: shard, version: snapshot.version, layout: snapshot.layout, createdAt: snapshot.createdAt });
    this.#configured = undefined;
    return true;
  }

  /**
   * Null where the Worker routed this call by the settings this object
   * holds. A shard that is behind (a push it missed) pulls them from shard 0
   * first, so a task never runs on settings older than the Worker's.
   */
  private async staleRoute(input: SubmitInput): Promise<Failure | null> {
    const route = input.route;
    const mine = this.configured();
    if (route === null || mine?.version === route.version) return null;
    // Shard 0 is where the settings are: an unknown session is answered as such.
    if (route.shard === 0 && mine === undefined) return null;
    if (route.shard > 0) {
      const snapshot = await sessionStub(this.env, input.sessionId).snapshot();
      if (snapshot) this.adopt(route.shard, snapshot);
      if (this.configured()?.version === route.version) return null;
    }
    return failed(new ApiError(503, STALE_ROUTING, `session ${input.sessionId}'s settings changed while this request was routed; send it again`));
  }

  /** This shard's inference figures (the NeuroShard node metrics, summed by workers/sessions/session-metrics.ts). */
  inferenceMetrics(now: number): TaskMetrics | null {
    if (!this.configured()) return null;
    // Tasks still held in memory (recorded only with their outcome) were received all the same.
    const stored = taskMetrics(this.sql, now);
    const running = this.store.unrecordedCounts(now - 60_000);
    return { ...stored, requests: stored.requests + running.all, lastMinute: stored.lastMinute + running.since };
  }

  /** This shard's slowest task latencies, for the deployment's p99. */
  slowestLatencies(limit: number): number[] {
    return this.configured() ? slowestLatencies(this.sql, limit) : [];
  }

  /** This shard's newest decided tasks' consensus records (the NeuroShard node's proofs). */
  taskProofs(limit: number, namespace: string | null = null): TaskProof[] {
    return this.configured() ? taskProofs(this.sql, limit, namespace) : [];
  }

  /** This shard's decided tasks counted (of one caller namespace, or all), for the proofs' stats. */
  proofCounts(namespace: string | null = null): ProofCounts | null {
    return this.configured() ? proofCounts(this.sql, namespace) : null;
  }

  /** This shard's tasks over a window, by bucket (the console's overview, GET /api/v1/admin/metrics). */
  taskSeries(window: SeriesWindow): ShardSeries | null {
    return this.configured() ? taskSeries(this.sql, window) : null;
  }

  /** How many tasks this shard holds. */
  taskCount(): number {
    return this.configured() ? this.store.taskCount() : 0;
  }

  /** When the session was created (epoch ms; a shard's copy keeps the session's), or null for an unknown session. */
  createdAt(): number | null {
    return this.configured()?.createdAt ?? null;
  }

  getSession(): Session | null {
    const row = this.hasSchema() ? this.store.session() : undefined;
    if (!row) return null;
    const config = SessionConfigSchema.parse(JSON.parse(row.config));
    return {
      id: row.session_id,
      ...config,
      owner: config.owner ?? null,
      created_at: new Date(row.created_at).toISOString(),
      updated_at: new Date(row.updated_at).toISOString(),
      task_count: this.store.taskCount(),
    };
  }

  // --- reads ---------------------------------------------------------------

  listTasks(options: { limit: number; before?: number }) {
    const session = this.configured();
    if (!session) return null;
    return this.store.tasks(options.limit, options.before ?? Number.MAX_SAFE_INTEGER).map((r) => taskSummary(r, session.id));
  }

  /** One task with its assignments and history; null where the session or the task does not exist. */
  async getTask(taskId: number) {
    const session = this.configured();
    const row = session && this.store.task(taskId);
    if (!session || !row) return null;
    const parts = { assignments: this.store.assignments(taskId), events: this.store.events(taskId) };
    // A private task reads as URNs and hashes: its plaintext is for key holders, through the payload key routes.
    if (session.config.private) return privateTaskDetail(row, session.id, parts);
    return taskDetail(row, session.id, { result: await this.storedCompletion(session, row, parts.assignments), ...parts });
  }

  /** A task's signed receipt; null where the session, the task or its receipt (still running) does not exist. */
  async getReceipt(taskId: number) {
    return this.configured() ? await this.receipts.get(taskId) : null;
  }

  /** Whether a task was already submitted under this request id. */
  knowsRequest(requestId: string): boolean {
    return this.configured() !== undefined && this.store.taskByRequestId(requestId) !== undefined;
  }

  hasTask(taskId: number): boolean {
    return this.configured() !== undefined && this.store.task(taskId) !== undefined;
  }

  // --- tasks ---------------------------------------------------------------

  /** Runs one completion task to its outcome. A `request_id` seen before returns that task's result and dispatches nothing. */
  async submit(input: SubmitInput): Promise<Result> {
    const stale = await this.staleRoute(input);
    if (stale) return stale;
    const begun = await this.begin(input);
    return "done" in begun ? begun.done : begun.result;
  }

  /**
   * Like `submit`, for `stream: true`. With redundancy 1, or a session whose
   * stream policy prefers speed, the first miner to produce text streams it
   * live; otherwise the agreed completion comes back whole (the caller
   * streams it), so a client never sees an answer consensus then rejects.
   */
  async submitStream(input: SubmitInput): Promise<Result | Streaming> {
    const stale = await this.staleRoute(input);
    if (stale) return stale;
    const session = this.configured()?.config;
    // Encrypted payload flows answer whole: the route then answers JSON, as for stream: false.
    const live = session && !(session.private && input.payload) && (session.redundancy === 1 || session.stream_policy === "speed");
    if (!live) return this.submit({ ...input, route: null });

    const stream = new LiveStream();
    const begun = await this.begin(input, stream);
    if ("done" in begun) return begun.done;
    const first = await Promise.race([stream.first.then(() => "streaming" as const), begun.result.then(() => "decided" as const)]);
    if (first === "decided" && !stream.hasText) return begun.result;
    this.ctx.waitUntil(begun.result.then((result) => stream.end(result)));
    return { ok: true, stream: stream.readable, taskId: begun.taskId };
  }

  private async begin(input: SubmitInput, live?: LiveStream): Promise<Begun> {
    const session = this.configured();
    if (!session) return { done: failed(new ApiError(404, "session_not_found", `session ${input.sessionId} does not exist`)) };
    const refused = refusal(session, input);
    if (refused) return { done: refused.toFailure() };

    // Tasks are stored under the caller-scoped key; the client's own id is what its answers show.
    const requestId = input.request.request_id ?? null;
    const previous = input.requestKey === null ? undefined : this.store.taskByRequestId(input.requestKey);
    if (previous) return { done: await this.replay(previous, { requestId: requestId ?? "", requestHash: input.requestHash }, session) };

    const plan = planTask(session, input, this.now());
    // A chain task's named miners (domain/miners/miner-pin.ts): picked first; the task says which could not be reached.
    // (The wait is for a cold pool only; the index dispatches a chain task once at a time, so no twin slips in meanwhile.)
    const pin = input.minerPin ? pinNote(input.minerPin, await this.pool.candidates(session.config.model), plan.redundancy) : undefined;
    const pinned = pin && new Set(pin.named.filter((a) => !pin.unreachable.includes(a)));
    if (input.payload) {
      try {
        this.payloads.checkSize(plan.promptText);
      } catch (err) {
        return { done: failed(err) };
      }
    }
    // Recorded only with its outcome when nothing needs it on disk before its miners are called (unrecorded-tasks.ts, `Recording`):
    // no request id to keep from a second dispatch, no live stream that shows its id first, no chain task's named miners.
    // Otherwise its first assignment comes in this storage turn when nothing before it waits on I/O: no prompt to store, a
    // warm pool, the alarm set.
    const unrecorded = input.requestKey === null && !live && !pin;
    const recording = unrecorded ? "unrecorded" : !input.payload && this.pool.ready(session.config.model) && this.alarmCovers(plan.deadline) ? "assigned" : "queued";
    const taskId = this.store.insertTask(
      {
        // A task without a request id is stored under its caller's owner-only key: its views know whose it is.
        requestId: input.requestKey ?? input.ownerKey ?? null,
        requestHash: input.requestHash,
        kind: plan.request.kind,
        recorded: plan.recorded,
        redundancy: plan.redundancy,
        createdAt: plan.created,
        precommitDeadline: plan.precommitDeadline,
        deadline: plan.deadline,
        payloadVersion: input.payload?.version ?? null,
      },
      session.layout,
      session.shard,
      recording,
    );
    // Recorded with the task, in its storage turn.
    if (pin) this.sql`UPDATE tasks SET miner_pin = ${JSON.stringify(pin)} WHERE task_id = ${taskId}`;

    let promptUrn: string | null = null;
    // A v2/v3 task's prompt and result keys, their retention rows written already (most often by an earlier task's
    // reservation): writing to R2 under them needs no row after it, so a task recorded only with its outcome writes none
    // before its miner call, and a crash at any point leaves nothing in R2 for ever (task-payloads.ts, `reserveKeys`).
    let keys: ReservedKeys | null = null;
    if (input.payload) {
      try {
        const reserved = this.payloads.reserveKeys(this.ref(session), taskId, plan.deadline, (id) => nextTaskId(session.layout, session.shard, id));
        keys = reserved.keys;
        // A block reserved now (one task in KEY_BLOCK): its rows durable before anything goes to R2 under its keys.
        if (reserved.written) await this.ctx.storage.sync();
        promptUrn = (await this.payloads.storeReserved(this.ref(session), taskId, input.payload.version, "prompt", plan.promptText, keys)).urn;
        this.store.setPromptUrn(taskId, promptUrn);
      } catch (err) {
        console.error("storing prompt payload failed", err);
        const error = new ApiError(503, "payload_store_unavailable", "the prompt could not be stored", undefined, undefined, { cause: err });
        // Nothing was dispatched: the task is forgotten as one no miner took (`no_miners_available`), so its request_id may
        // be sent again. Its id is not given back: its keys' rows stay bound to it and expire as an ended task's (the write
        // that failed may have written all the same), with the alarm that deletes their objects, which nothing else may set.
        this.store.discard(taskId, { reuseId: false });
        if (keys) await this.scheduleAlarm(this.payloads.expireTask(taskId, this.now()));
        return { done: error.toFailure() };
      }
    }
    // The deadline alarm ends a recorded task a crash left open; one held in memory leaves nothing to end, but its prompt's expiry.
    const alarmDue = !unrecorded ? plan.deadline : promptUrn !== null ? this.payloads.expiryFrom(plan.deadline) : null;
    if (alarmDue !== null && !this.alarmCovers(alarmDue)) await this.scheduleAlarm(alarmDue);

    live?.open(streamHead({ sessionId: input.sessionId, taskId, kind: plan.request.kind, model: session.config.model, created: plan.created }));
    const config = loadConfig(this.env);
    const recorder = this.store.slotRecorder(taskId, !session.config.private);
    const offchainTask = input.payload && promptUrn ? { sessionId: input.sessionId, taskId, deadline: plan.deadline, promptUrn, origin: input.payload.origin } : undefined;
    const embeddings = embeddingSourceFor(config.embedding);
    // The caller's configuration, run-time settings included (PATCH /neuroshard/api/v1/config); this object's vars otherwise.
    const threshold = input.threshold ?? config.similarityThreshold;
    /** The task's slots once decided: a late result's usage is judged against the agreeing ones. */
    let decidedSlots: readonly Slot[] = [];
    const run = runTask(
      {
        redundancy: plan.redundancy,
        commitPolicy: plan.commitPolicy,
        precommitDeadline: plan.precommitDeadline,
        deadline: plan.deadline,
        request: plan.request,
        threshold,
        decisive: plan.decisive,
      },
      {
        now: this.now,
        // From the session's snapshot: the registry hears of this load with the next report batch.
        selectMiners: (count, exclude, room) => this.pool.select(session.config.model, count, exclude, input.policy?.selection, room, pinned),
        callMiner: signedCalls(
          session.config.signatures,
          { router: this.receipts.router, sessionId: input.sessionId, taskId, requestHash: input.requestHash },
          (target, request, options) => (offchainTask && target.offchain ? this.offchain.call(offchainTask, target, request, options) : callMiner(target, request, options)),
        ),
        embeddings,
        clock: this.clock,
        events: {
          ...recorder,
          // A miner that failed may have changed health: avoid it here until the next snapshot
          // (not for failures the request caused, which say nothing of its health).
          failed: (s) => {
            if (s.fault !== "request") this.pool.suspect(s.miner.id);
            recorder.failed(s);
          },
          timedOut: (s) => {
            if (s.fault !== "request") this.pool.suspect(s.miner.id);
            recorder.timedOut(s);
          },
          late: (s) => {
            auditUsage(plan.request, decidedSlots, [s]);
            recorder.late(s);
          },
          ...(live ? { delta: live.delta } : {}),
        },
      },
    );
    const deps = { store: this.store, payloads: this.payloads, now: this.now, threshold, embedding: embeddings.name };
    const result = run.outcome.then(async (outcome) => {
      decidedSlots = outcome.slots;
      // Before anything is recorded or reported: a misreport is stored with its slot and is its miner's fault.
      auditUsage(plan.request, outcome.slots);
      const receiptSnapshot = this.receipts.snapshot(outcome, session.config.private);
      // The agreeing miners' rewards (and the outvoted ones' slashes), settled as the task commits (its row says what they
      // paid), queued in the same turn and sent after the answer (`sendRewards`).
      const settle = (completion: CompletionResponse, winnerSlot: number) => {
        const task = { sessionId: session.id, taskId, winnerSlot, slots: outcome.slots, usage: completion.usage, billing: input.billing };
        const due = settleTask(task, input.rewardPolicy ?? config.rewards);
        return { due, paidMicros: paidMicros(due) };
      };
      // The miners' reports, queued in the write of the outcome (their slots' rows carry them); the registry gets them in a batch.
      let queued = 0;
      const reports = () => {
        const stamped = this.pending.stamp(this.reports.report(taskId, outcome.slots));
        queued = stamped.length;
        return stamped;
      };
      const {
        result: recorded,
        due,
        receipt,
      } = await recordOutcome(deps, {
        taskId,
        session,
        plan,
        outcome,
        requestId,
        promptUrn,
        keys,
        payloadVersion: input.payload?.version,
        settle,
        reports,
        // Its body written with the outcome, in the same statement of the task's row; signed when first read.
        receipt: (answered) =>
          receiptSnapshot &&
          this.receipts.build(
            { sessionId: session.id, taskId, requestHash: input.requestHash, redundancy: plan.redundancy, config: session.config, threshold },
            receiptSnapshot,
            answered,
            outcome.slots,
          ),
      });
      if (queued > 0) this.reportsQueued();
      if (due) this.rewards.add(due);
      if (!receipt) return recorded;
      this.anchorReceipt(receipt);
      // A completion links its receipt in its body; a failure, in a header.
      return recorded.ok ? recorded : { ...recorded, headers: { ...recorded.headers, "x-receipt-url": receiptPath(session.id, taskId) } };
    });
    this.running.set(taskId, { run, result });
    this.ctx.waitUntil(
      // After the decided outcome's reports: a task settled first would be forgotten, then reported twice.
      // Its late results and their reports are written in this one turn.
      Promise.all([run.settled, result.catch(() => undefined)])
        .then(([slots]) => {
          const reports = this.pending.stamp(this.reports.reportSettled(taskId, slots));
          this.store.settle(taskId, reports);
          if (reports.length > 0) this.reportsQueued();
        })
        .catch((err) => console.error("queueing reputation reports failed", err))
        .finally(() => this.running.delete(taskId)),
    );
    return { taskId, result };
  }

  /** The answer a known request id gets again; a replayed failure says it is a replay, as a replayed success does. */
  private async replay(previous: TaskRow, request: { requestId: string; requestHash: string }, session: Configured): Promise<Result> {
    if (previous.request_hash !== request.requestHash) {
      return failed(new ApiError(409, "idempotency_conflict", `request_id ${request.requestId} was used for a different request`));
    }
    const replayHeaders = { "x-idempotent-replay": "true", "x-task-id": String(previous.task_id) };
    const completion = await this.storedCompletion(session, previous);
    if (completion) return { ok: true, completion, replayed: true };
    if (previous.error) {
      const error: StoredError = JSON.parse(previous.error);
      return { ok: false, status: error.status, ...error.body.error, headers: replayHeaders };
    }
    const inFlight = this.running.get(previous.task_id);
    if (inFlight) {
      const result = await inFlight.result;
      return result.ok ? { ...result, replayed: true } : { ...result, headers: { ...result.headers, ...replayHeaders } };
    }
    return failed(new ApiError(409, "task_in_progress", `task ${previous.task_id} for request_id ${request.requestId} is still running`));
  }

  /** A task's stored completion, its answer's text read back from the winner's assignment when it was stored there (stored-text.ts). */
  private async storedCompletion(session: Configured, row: TaskRow, assignments?: AssignmentRow[]): Promise<CompletionResponse | null> {
    if (!row.result) return null;
    if (row.result_text_slot === null) return this.payloads.unseal(this.ref(session), row.task_id, row.result, CompletionResponseSchema);
    const text = (assignments ?? this.store.assignments(row.task_id)).find((a) => a.slot === row.result_text_slot)?.output ?? null;
    return CompletionResponseSchema.parse(withAnswerText(JSON.parse(row.result), text));
  }

  private ref(session: Configured) {
    return { id: session.id, private: session.config.private };
  }

  // --- off-chain miners ----------------------------------------------------

  /** An assigned miner's off-chain result: stored as a payload, then judged like any result. */
  async deliverResult(claims: AssignmentClaims, text: string, signature?: string, usage?: ReportedUsage): Promise<{ ok: true; urn: string; sha256: string } | Failure> {
    const session = this.configured();
    if (!session) return failed(new ApiError(404, "task_not_found", `task ${claims.t} has no off-chain payloads`));
    try {
      return { ok: true, ...(await this.offchain.deliver(this.ref(session), claims, text, signature, usage)) };
    } catch (err) {
      return failed(err);
    }
  }

  /** The prompt of a task, for a miner assigned to it while its assignment is open. */
  async readPayloadForMiner(claims: AssignmentClaims, urn: string): Promise<{ ok: true; text: string } | Failure> {
    const session = this.configured();
    if (!session) return failed(new ApiError(403, "payload_access_denied", "this assignment does not grant access to that payload"));
    try {
      return { ok: true, text: await this.offchain.readPrompt(this.ref(session), claims, urn) };
    } catch (err) {
      return failed(err);
    }
  }

  // --- reports to the registry --------------------------------------------

  /** After reports were written (in the caller's storage turn): a full batch is sent at once, the rest by the alarm. */
  private reportsQueued() {
    // The alarm also retries a batch the count trigger failed to send.
    const due = this.now() + FLUSH_INTERVAL_MS;
    if (!this.alarmCovers(due)) this.ctx.waitUntil(this.scheduleAlarm(due));
    if (this.pending.count() >= FLUSH_COUNT) this.ctx.waitUntil(this.flushReports());
  }

  /** Sends both outboxes (see OutboxSender); the alarm retries what is left. */
  private flushReports(): Promise<void> {
    const session = this.configured();
    return this.outbox.flush(session && { sessionId: session.id, model: session.config.model, objectName: this.ctx.id.toString() });
  }

  // --- deadlines -----------------------------------------------------------

  /**
   * Keeps the alarm at or before the earliest open deadline, payload expiry
   * or report flush: one alarm drives every kind of due work. It is only
   * moved earlier here; an alarm that fires with nothing
   * due reschedules itself, so the hot path rarely writes it. `dueBy` is
   * when the new work is due: an alarm already set no later covers it, with
   * no query at all (the common case on a busy session); with the alarm
   * known to be later or unset, the new work's time is the alarm's, again
   * with no query (the work already waiting has its alarm, or is found by
   * the next alarm's own scheduling, as the payloads' expiry always was).
   * Only an instance that does not know its alarm (just woken) and the
   * alarm itself look at the tables.
   */
  private async scheduleAlarm(dueBy?: number) {
    if (dueBy !== undefined && this.alarmCovers(dueBy)) return;
    if (dueBy !== undefined && this.alarmAt !== undefined) {
      this.alarmAt = dueBy;
      await this.ctx.storage.setAlarm(dueBy);
      return;
    }
    const candidates = [this.store.earliestOpenDeadline(), this.payloads.nextExpiry(), this.pending.dueAt(), this.rewards.dueAt()].filter((x) => x !== null);
    if (candidates.length === 0) return;
    const next = Math.min(...candidates);
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt === null || next < this.alarmAt) {
      this.alarmAt = next;
      await this.ctx.storage.setAlarm(next);
    }
  }

  /** Whether the alarm, as this instance set it, already comes by `dueBy`: the common case, checked before any promise is made. */
  private alarmCovers(dueBy: number): boolean {
    return typeof this.alarmAt === "number" && this.alarmAt <= dueBy;
  }

  /**
   * Ends every task past its deadline (the run if it is in memory, the
   * record if the object restarted since), expires payloads, and sends the
   * queued reports (all of them: an early send only makes a smaller batch).
   */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    if (!this.hasSchema()) return;
    const now = this.now();
    for (const task of this.store.overdue(now)) {
      const inMemory = this.running.get(task.task_id);
      if (inMemory) {
        inMemory.run.abort("timeout");
        await inMemory.result;
        continue;
      }
      this.store.timeOutOrphan(task.task_id, storedError(new ApiError(504, "timeout", `task ${task.task_id} did not finish before its timeout`)));
      this.payloads.expireTask(task.task_id, now);
    }
    await this.payloads.sweep(now);
    await this.flushReports();
    await this.scheduleAlarm();
  }
}
