import type { SessionsEnv } from "../session/sessions-env";
import type { ChainTarget } from "../../domain/config/config";
import type { ChainEvent, ChainSession, ChainTaskDetail, ChainTask, EventFilter, SessionFilter, TaskFilter, UndecodableLog } from "../../domain/schemas/chain";
import { SqliteObject } from "../sqlite-object";
import { IndexStore } from "./index-store";
import { MIGRATIONS, type EventRow, type SessionRow, type TaskRow, type UndecodableRow } from "./schema";
import { runTick, type TickReport } from "./tick";
import { dispatchView, eventView, sessionView, taskView, undecodableView } from "./views";
import { dispatchChainTask, writeBackRecord } from "./hybrid-dispatch";
import { privateKeyToAccount } from "viem/accounts";
import { writeBackBatch } from "../../domain/chain/writeback";
import type { WritebackOutcome } from "./index-store";
import { DueWork, type WorkKind } from "./due-work";
import { type AnchorTarget, chainSignerKey, loadConfig } from "../../domain/config/config";
import type { ReceiptAnchorPort } from "../../domain/objects/ports";
import type { Anchor } from "../../domain/receipts/anchor";
import { nextBatch, postRoot } from "../../domain/chain/receipt-anchor";
import { AnchorQueue, type BatchRow } from "./anchor-queue";
import type { RewardTarget } from "../../domain/config/config";
import type { RewardsEnv } from "./reward-earnings";
import { type EpochEntry, type EpochRow, type RewardClaim, RewardEpochs } from "./reward-epochs";
import { closeEpoch, type EpochClose, epochDueAt } from "./reward-close";
import { accountSender, type ChainAccountEnv } from "../chain-account/chain-account-object";
import type { TxSender } from "../../domain/chain/account-sender";
import type { Hex } from "viem";

/** Next tick while behind; after a failure, doubling from 2 s up to 5 minutes. */
const BEHIND_DELAY_MS = 1_000;
const RETRY_BASE_MS = 2_000;
const RETRY_MAX_MS = 300_000;
/** Hybrid tasks run per dispatch turn: each is a whole edge task (miners, consensus), so few; the next turn is due at once. */
const DISPATCHES_PER_TURN = 4;
/** Answered tasks written back together, in one recordTasks transaction. */
const WRITEBACKS_PER_BATCH = 16;
/** A batch whose root could not be posted is tried again after this. */
const ANCHOR_RETRY_MS = 5_000;
/** An alarm stops starting work after this long (the work it started finishes); the next alarm goes on. */
const ALARM_TURN_MS = 60_000;
/** Work due this soon after the alarm's work is done is run by the same alarm. */
const HOLD_MS = 1_000;
/** While work runs, the alarm looks for newly due work at least this often. */
const POLL_MS = 250;
const ANCHOR_TARGET_KEY = "anchor_target";
const REWARD_TARGET_KEY = "reward_target";
/** An epoch whose root could not be posted (or whose earnings could not be read) is tried again after this. */
const REWARD_RETRY_MS = 5_000;

export type AnchorFlush = { sealed: number | null; posted: BatchRow | null; error: string | null };

export type IndexState = {
  status: "running" | "stopped";
  stop_reason: string | null;
  cursor: number;
  head: number | null;
  safe_head: number | null;
  reorg_count: number;
  range_size: number;
  failures: number;
  last_error: string | null;
  last_error_at: number | null;
  last_tick_at: number | null;
  last_success_at: number | null;
  events: number;
  undecodable_logs: number;
};

/** What is due and what waits (tests, operators). */
export type WorkState = { due: { kind: WorkKind; due_at: number }[]; running: WorkKind[]; pending_dispatches: number; pending_writebacks: number };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The Chain index: one object per chain and contract pair. The Worker's cron
 * calls `tick` with the configured target. Everything else is due work
 * (`DueWork`) behind the object's one alarm: more ticks while behind or
 * after a failure (with the target the object stored), hybrid dispatch,
 * write-back, and (in an anchor instance) receipt anchoring. Each kind runs
 * on its own: a tick that queues hybrid tasks makes dispatch due now and
 * returns; a slow edge task never holds a tick up, and the alarm goes on
 * ticking while it runs. Each kind never overlaps itself: a tick asked for
 * while one runs is skipped (the running one is reported). Lazy: an index
 * that never ticked has no storage.
 */
export class ChainIndexObject extends SqliteObject<SessionsEnv & RewardsEnv & ChainAccountEnv> implements ReceiptAnchorPort {
  #running: Promise<TickReport> | null = null;
  #flushing: Promise<AnchorFlush> | null = null;
  #closing: Promise<EpochClose> | null = null;
  /** The kinds of due work running now (from the alarm, or a cron tick). */
  #busy = new Set<WorkKind>();
  #alarm: Promise<void> | null = null;

  constructor(ctx: DurableObjectState, env: SessionsEnv & RewardsEnv & ChainAccountEnv) {
    super(ctx, env, MIGRATIONS, { lazy: true });
  }

  /**
   * The sender of `key`'s account on `chainId`: its ChainAccountObject,
   * which this object's write-back, anchoring and reward posts (and every
   * other instance's) share, so that their transactions never take the
   * same nonce.
   */
  private sender(key: Hex, chainId: number): TxSender {
    return accountSender(this.env, chainId, privateKeyToAccount(key).address);
  }

  private store(): IndexStore {
    this.ensureSchema();
    return new IndexStore(this.sql, this.ctx.storage);
  }

  private work(): DueWork {
    this.ensureSchema();
    return new DueWork(this.sql);
  }

  /** Sets the alarm to the earliest due work, unless it is set sooner. */
  private async arm(): Promise<void> {
    const next = this.work().next();
    if (next === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }

  /** One tick with `target` (the cron's), or with the stored target (the alarm's). It only reads the chain: what it queued is dispatched as due work. */
  async tick(target?: ChainTarget): Promise<TickReport & { skipped?: true }> {
    if (this.#running) return { ...(await this.#running), skipped: true };
    const store = this.store();
    const chosen = target ?? store.target();
    if (!chosen) throw new Error("this chain index has no target yet: the cron gives it one");
    this.#busy.add("tick");
    this.#running = runTick(store, chosen, Date.now());
    try {
      const report = await this.#running;
      await this.schedule(report, store, chosen);
      return report;
    } finally {
      this.#running = null;
      this.#busy.delete("tick");
    }
  }

  /** What a tick leaves due: another tick while behind or after a failure; dispatch and write-back when they have work. */
  private async schedule(report: TickReport, store: IndexStore, target: ChainTarget): Promise<void> {
    const work = this.work();
    const now = Date.now();
    if (report.outcome === "behind") work.due("tick", now + BEHIND_DELAY_MS);
    else if (report.outcome === "failed") {
      const failures = store.state()?.failures ?? 1;
      work.due("tick", now + Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, failures - 1)));
    }
    this.scheduleDispatch(store, work, now);
    if (target.writeback) this.scheduleWriteback(store, work, now);
    await this.arm();
  }

  private scheduleDispatch(store: IndexStore, work: DueWork, now: number): void {
    const at = store.pendingDispatches(1, now).length > 0 ? now : store.nextRetry("dispatch");
    if (at !== null) work.due("dispatch", at);
  }

  /** Write-back waits while hybrid tasks are due for dispatch (the dispatch's last turn makes it due), so tasks answered together go in one batch. */
  private scheduleWriteback(store: IndexStore, work: DueWork, now: number): void {
    if (store.pendingDispatches(1, now).length > 0) return;
    const at = store.pendingWritebacks(1, now).length > 0 ? now : store.nextRetry("writeback");
    if (at !== null) work.due("writeback", at);
  }

  /** Runs a few due hybrid tasks, each as an edge task on its mapped session; more are due at once, their write-backs too. */
  private async dispatch(): Promise<void> {
    const store = this.store();
    const target = store.target();
    if (!target) return;
    for (const row of store.pendingDispatches(DISPATCHES_PER_TURN, Date.now())) {
      const outcome = await dispatchChainTask(this.env, {
        chainId: target.chainId,
        queueAddress: target.queueAddress,
        edgeSessionId: row.edge_session_id,
        requestId: row.request_id,
        taskData: row.task_data,
        minerPin: store.namedMiners(row.session_id, row.task_id),
      });
      store.recordDispatch(row, outcome, Date.now(), target.writeback);
    }
    const work = this.work();
    this.scheduleDispatch(store, work, Date.now());
    if (target.writeback) this.scheduleWriteback(store, work, Date.now());
  }

  /** Writes back the answered tasks due, together, in one recordTasks transaction (`writeBackBatch`). */
  private async writeback(): Promise<void> {
    const store = this.store();
    const target = store.target();
    if (!target?.writeback) return;
    const rows = store.pendingWritebacks(WRITEBACKS_PER_BATCH, Date.now());
    if (rows.length === 0) return;
    const key = chainSignerKey(this.env);
    let outcomes: WritebackOutcome[];
    if (!key) outcomes = rows.map(() => ({ ok: false, error: "CHAIN_SIGNER_KEY is not set" }));
    else {
      const router = privateKeyToAccount(key).address;
      const tasks = await Promise.all(
        rows.map(async (row) => ({ sessionId: row.session_id, taskId: row.task_id, result: row.result ?? "", record: await writeBackRecord(this.env, row, router) })),
      );
      outcomes = await writeBackBatch(target, this.sender(key, target.chainId), tasks, { resultSignerKey: loadConfig(this.env).signerKey });
    }
    const now = Date.now();
    for (const [i, row] of rows.entries()) store.recordWriteback(row, outcomes[i] ?? { ok: false, error: "not written back" }, now);
    this.scheduleWriteback(store, this.work(), Date.now());
  }

  private async runWork(kind: WorkKind): Promise<void> {
    if (kind === "tick") {
      if (this.store().target()) await this.tick();
    } else if (kind === "dispatch") await this.dispatch();
    else if (kind === "writeback") await this.writeback();
    else if (kind === "rewards") await this.closeRewardEpoch();
    else await this.flushAnchors();
  }

  /**
   * Runs the due work: each kind due and not running starts at once, beside
   * the others; while any runs, work that falls due (a tick while a slow
   * dispatch runs, the dispatch a tick made due) starts too. It returns when
   * nothing runs, and the alarm is set to the next due time.
   */
  override async alarm(): Promise<void> {
    if (!this.hasSchema()) return;
    if (this.#alarm) await this.#alarm.catch(() => undefined);
    this.#alarm = this.#runDue();
    try {
      await this.#alarm;
    } finally {
      this.#alarm = null;
      await this.arm();
    }
  }

  async #runDue(): Promise<void> {
    const work = this.work();
    // An object whose alarm was set before due work existed: what its alarm meant.
    if (work.next() === null) {
      if (await this.ctx.storage.get<AnchorTarget>(ANCHOR_TARGET_KEY)) work.due("anchor", 0);
      if (await this.ctx.storage.get<RewardTarget>(REWARD_TARGET_KEY)) work.due("rewards", 0);
      if (this.store().target()) work.due("tick", 0);
    }
    const started = Date.now();
    const running = new Map<WorkKind, Promise<void>>();
    for (;;) {
      const now = Date.now();
      if (now - started < ALARM_TURN_MS) {
        for (const kind of work.dueBy(now)) {
          if (running.has(kind) || this.#busy.has(kind)) continue;
          work.take(kind);
          this.#busy.add(kind);
          const run = this.runWork(kind)
            .catch((err) => {
              // Work that threw (storage, a bug) is tried again later, not lost.
              console.error(`chain index: ${kind} failed:`, err);
              work.due(kind, Date.now() + RETRY_BASE_MS);
            })
            .finally(() => {
              this.#busy.delete(kind);
              running.delete(kind);
            });
          running.set(kind, run);
        }
      }
      const next = work.next();
      if (running.size === 0) {
        // Work due within a moment (the next tick while behind) is waited for here rather than by another alarm.
        if (next === null || next - now > HOLD_MS || now - started >= ALARM_TURN_MS) return;
        await sleep(Math.max(0, next - now));
        continue;
      }
      await Promise.race([...running.values(), sleep(Math.min(POLL_MS * 4, Math.max(POLL_MS, (next ?? now + POLL_MS * 4) - now)))]);
    }
  }

  /** What is due and what waits. */
  workState(): WorkState | null {
    if (!this.hasSchema()) return null;
    this.ensureSchema();
    const count = (status: "dispatch" | "writeback") =>
      (status === "dispatch"
        ? this.sql<{ n: number }>`SELECT COUNT(*) AS n FROM dispatches WHERE status = 'pending'`
        : this.sql<{ n: number }>`SELECT COUNT(*) AS n FROM dispatches WHERE status = 'answered' AND writeback_status = 'pending'`)[0]?.n ?? 0;
    return { due: this.work().list(), running: [...this.#busy], pending_dispatches: count("dispatch"), pending_writebacks: count("writeback") };
  }

  /** Queues a receipt's leaf; the alarm seals and posts its batch when it is due (`AnchorQueue.dueAt`). */
  async queueReceipt(target: AnchorTarget, sessionId: number, taskId: number, leaf: string): Promise<void> {
    this.ensureSchema();
    await this.ctx.storage.put(ANCHOR_TARGET_KEY, target);
    const queue = new AnchorQueue(this.sql, this.ctx.storage);
    queue.add(sessionId, taskId, leaf as `0x${string}`, Date.now());
    await this.scheduleAnchors(queue, target);
  }

  private async scheduleAnchors(queue: AnchorQueue, target: AnchorTarget, failed = false): Promise<void> {
    const due = failed || queue.unsent() ? Date.now() + ANCHOR_RETRY_MS : queue.dueAt(target);
    if (due === null) return;
    this.work().due("anchor", due);
    await this.arm();
  }

  /**
   * Seals the waiting leaves into a batch when due (or `force`d), and posts
   * the sealed batch's root. One flush at a time; a batch sealed is posted
   * as sealed, by its number, however often the flush is retried.
   */
  async flushAnchors(options: { force?: boolean } = {}): Promise<AnchorFlush> {
    if (this.#flushing) await this.#flushing.catch(() => undefined);
    this.#flushing = this.#flush(options.force ?? false);
    try {
      return await this.#flushing;
    } finally {
      this.#flushing = null;
    }
  }

  async #flush(force: boolean): Promise<AnchorFlush> {
    const target = this.hasSchema() ? await this.ctx.storage.get<AnchorTarget>(ANCHOR_TARGET_KEY) : undefined;
    if (!target) return { sealed: null, posted: null, error: "no receipt has been queued for anchoring" };
    const key = chainSignerKey(this.env);
    if (!key) return { sealed: null, posted: null, error: "CHAIN_SIGNER_KEY is not set" };
    const queue = new AnchorQueue(this.sql, this.ctx.storage);
    let sealed: number | null = null;
    let batch = queue.unsent();
    if (!batch) {
      const due = queue.dueAt(target);
      if (due === null || (!force && due > Date.now())) {
        // Not due yet: due work again when it is (the alarm took its row to run this flush).
        if (due !== null) await this.scheduleAnchors(queue, target);
        return { sealed: null, posted: null, error: null };
      }
      try {
        batch = queue.seal(await nextBatch(target, privateKeyToAccount(key).address), target.batchSize, Date.now());
      } catch (err) {
        await this.scheduleAnchors(queue, target, true);
        return { sealed: null, posted: null, error: err instanceof Error ? err.message : String(err) };
      }
      if (!batch) return { sealed: null, posted: null, error: null };
      sealed = batch.batch;
    }
    const sender = this.sender(key, target.chainId);
    let posted = await postRoot(target, sender, { batch: batch.batch, root: batch.root as `0x${string}`, count: batch.count });
    if (!posted.ok && posted.renumber !== undefined) {
      queue.renumber(batch.batch, posted.renumber);
      batch = { ...batch, batch: posted.renumber };
      posted = await postRoot(target, sender, { batch: batch.batch, root: batch.root as `0x${string}`, count: batch.count });
    }
    if (posted.ok) queue.sent(batch.batch, posted.transaction, posted.blockNumber);
    else queue.failed(batch.batch, posted.error);
    await this.scheduleAnchors(queue, target, !posted.ok);
    const number = batch.batch;
    const row = queue.batches().find((b) => b.batch === number) ?? null;
    return { sealed, posted: posted.ok ? row : null, error: posted.ok ? null : posted.error };
  }

  /**
   * Keeps the RewardDistributor's target (the cron's, each run) and makes sure an alarm closes the next
   * epoch when it is due. Returns when that is.
   */
  async scheduleRewards(target: RewardTarget): Promise<number> {
    this.ensureSchema();
    await this.ctx.storage.put(REWARD_TARGET_KEY, target);
    const epochs = new RewardEpochs(this.sql, this.ctx.storage);
    // The first epoch closes one REWARD_EPOCH_S after the distributor is first scheduled.
    const due = epochs.unsent() ? Date.now() : epochs.last() ? epochDueAt(epochs, target) : Date.now() + target.epochMs;
    this.work().due("rewards", due);
    await this.arm();
    return due;
  }

  /** Closes an epoch when due (or `force`d), posting its root once (reward-close.ts); one close at a time. */
  async closeRewardEpoch(options: { force?: boolean } = {}): Promise<EpochClose> {
    if (this.#closing) await this.#closing.catch(() => undefined);
    this.#closing = this.#close(options.force ?? false);
    try {
      return await this.#closing;
    } finally {
      this.#closing = null;
    }
  }

  async #close(force: boolean): Promise<EpochClose> {
    const target = this.hasSchema() ? await this.ctx.storage.get<RewardTarget>(REWARD_TARGET_KEY) : undefined;
    if (!target) return { sealed: null, posted: null, error: "no reward target: the cron gives it one" };
    const key = chainSignerKey(this.env);
    if (!key) return { sealed: null, posted: null, error: "CHAIN_SIGNER_KEY is not set" };
    const epochs = new RewardEpochs(this.sql, this.ctx.storage);
    const now = Date.now();
    const closed = await closeEpoch(this.env, epochs, target, this.sender(key, target.chainId), force, now);
    // Failed: soon again. Else the next epoch's time; an epoch due but unchanged waits a whole epoch.
    const dueAt = epochDueAt(epochs, target);
    this.work().due("rewards", closed.error ? now + REWARD_RETRY_MS : dueAt > now ? dueAt : now + target.epochMs);
    await this.arm();
    return closed;
  }

  /** Each address's claim under the last posted epoch. */
  rewardClaims(addresses: string[]): RewardClaim[] {
    return this.hasSchema() ? new RewardEpochs(this.sql, this.ctx.storage).claims(addresses) : [];
  }

  /** Every sealed epoch (tests, operators, the conservation check). */
  rewardEpochs(): EpochRow[] {
    return this.hasSchema() ? new RewardEpochs(this.sql, this.ctx.storage).epochs() : [];
  }

  /** The amounts epoch `epoch` sealed, by address. */
  rewardEpochEntries(epoch: number): EpochEntry[] {
    return this.hasSchema() ? new RewardEpochs(this.sql, this.ctx.storage).entries(epoch) : [];
  }

  /** A receipt's anchor; null: never queued here. */
  async receiptAnchor(sessionId: number, taskId: number): Promise<Anchor | null> {
    if (!this.hasSchema()) return null;
    const target = await this.ctx.storage.get<AnchorTarget>(ANCHOR_TARGET_KEY);
    return target ? new AnchorQueue(this.sql, this.ctx.storage).anchorOf(sessionId, taskId, target) : null;
  }

  /** Every sealed batch (tests, operators). */
  anchorBatches(): BatchRow[] {
    return this.hasSchema() ? new AnchorQueue(this.sql, this.ctx.storage).batches() : [];
  }

  /** An admin's resync from `fromBlock`: waits for a running tick, then drops what is at or above it; the next tick reads it again. */
  async resync(fromBlock: number): Promise<IndexState | null> {
    if (this.#running) await this.#running.catch(() => undefined);
    if (!this.hasSchema()) return null;
    const store = this.store();
    if (!store.state()) return null;
    store.resync(fromBlock);
    this.work().due("tick", Date.now() + BEHIND_DELAY_MS);
    await this.arm();
    return this.state();
  }

  state(): IndexState | null {
    if (!this.hasSchema()) return null;
    const row = this.store().state();
    if (!row) return null;
    const count = (table: "events" | "undecodable_logs") =>
      (table === "events" ? this.sql<{ n: number }>`SELECT COUNT(*) AS n FROM events` : this.sql<{ n: number }>`SELECT COUNT(*) AS n FROM undecodable_logs`)[0]?.n ?? 0;
    return {
      status: row.status === "stopped" ? "stopped" : "running",
      stop_reason: row.stop_reason,
      cursor: row.cursor,
      head: row.head,
      safe_head: row.safe_head,
      reorg_count: row.reorg_count,
      range_size: row.range_size,
      failures: row.failures,
      last_error: row.last_error,
      last_error_at: row.last_error_at,
      last_tick_at: row.last_tick_at,
      last_success_at: row.last_success_at,
      events: count("events"),
      undecodable_logs: count("undecodable_logs"),
    };
  }

  private chainId(): number {
    return this.store().target()?.chainId ?? 0;
  }

  sessions(filter: SessionFilter): ChainSession[] {
    if (!this.hasSchema()) return [];
    const owner = filter.owner?.toLowerCase() ?? null;
    const after = filter.after ?? -1;
    const rows = this.sql<SessionRow>`SELECT * FROM sessions WHERE (${owner} IS NULL OR owner = ${owner}) AND session_id > ${after} ORDER BY session_id LIMIT ${filter.limit}`;
    const chainId = this.chainId();
    return rows.map((r) => sessionView(r, chainId));
  }

  session(sessionId: number): ChainSession | null {
    if (!this.hasSchema()) return null;
    const row = this.sql<SessionRow>`SELECT * FROM sessions WHERE session_id = ${sessionId}`[0];
    return row ? sessionView(row, this.chainId()) : null;
  }

  tasks(filter: TaskFilter): ChainTask[] {
    if (!this.hasSchema()) return [];
    const sessionId = filter.sessionId ?? null;
    const status = filter.status ?? null;
    const afterSession = filter.after?.sessionId ?? -1;
    const afterTask = filter.after?.taskId ?? -1;
    const rows = this.sql<TaskRow>`SELECT * FROM tasks
      WHERE (${sessionId} IS NULL OR session_id = ${sessionId}) AND (${status} IS NULL OR status = ${status})
        AND (session_id > ${afterSession} OR (session_id = ${afterSession} AND task_id > ${afterTask}))
      ORDER BY session_id, task_id LIMIT ${filter.limit}`;
    return rows.map(taskView);
  }

  /** One task with its queue history: every event that names it, in chain order. */
  task(sessionId: number, taskId: number): ChainTaskDetail | null {
    if (!this.hasSchema()) return null;
    const row = this.sql<TaskRow>`SELECT * FROM tasks WHERE session_id = ${sessionId} AND task_id = ${taskId}`[0];
    if (!row) return null;
    const history = this.sql<EventRow>`SELECT * FROM events WHERE session_id = ${sessionId} AND task_id = ${taskId} ORDER BY block_number, log_index`;
    const dispatch = this.store().dispatchOf(sessionId, taskId);
    return { ...taskView(row), history: history.map(eventView), dispatch: dispatch ? dispatchView(dispatch) : null };
  }

  events(filter: EventFilter): ChainEvent[] {
    if (!this.hasSchema()) return [];
    const from = filter.fromBlock ?? 0;
    const to = filter.toBlock ?? Number.MAX_SAFE_INTEGER;
    const event = filter.event ?? null;
    const contract = filter.contract ?? null;
    const sessionId = filter.sessionId ?? null;
    const taskId = filter.taskId ?? null;
    const afterBlock = filter.after?.block ?? -1;
    const afterLog = filter.after?.log ?? -1;
    const rows = this.sql<EventRow>`SELECT * FROM events
      WHERE block_number >= ${from} AND block_number <= ${to}
        AND (${event} IS NULL OR event_name = ${event}) AND (${contract} IS NULL OR contract = ${contract})
        AND (${sessionId} IS NULL OR session_id = ${sessionId}) AND (${taskId} IS NULL OR task_id = ${taskId})
        AND (block_number > ${afterBlock} OR (block_number = ${afterBlock} AND log_index > ${afterLog}))
      ORDER BY block_number, log_index LIMIT ${filter.limit}`;
    return rows.map(eventView);
  }

  undecodable(limit: number): UndecodableLog[] {
    if (!this.hasSchema()) return [];
    return this.sql<UndecodableRow>`SELECT * FROM undecodable_logs ORDER BY block_number, log_index LIMIT ${limit}`.map(undecodableView);
  }
}
