import type { ChainTarget } from "../../domain/config/config";
import type { JsonValue, RawLog } from "../../domain/chain/decode-log";
import type { Sql } from "../sqlite-object";
import { applyToMirror, rebuildMirror } from "./mirror";
import type { DispatchRow, StateRow } from "./schema";
import { chainRequestId, type DispatchOutcome } from "./hybrid-dispatch";
import type { MinerPin } from "../../domain/sessions/types";

const MAX_DISPATCH_ATTEMPTS = 5;
/** A dispatch or write-back that failed waits this long, doubling with each attempt, before the next. */
const RETRY_BASE_MS = 2_000;
const retryAt = (now: number, attempts: number) => now + RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1);

export type WritebackOutcome = { ok: true; transaction: string | null; blockNumber: number | null } | { ok: false; error: string };

/** A log read in a range, decoded or not, with what its enrichment read. */
export type ReadLog =
  | { ok: true; log: RawLog; contract: string; eventName: string; args: Record<string, JsonValue>; extra: Record<string, JsonValue> | null }
  | { ok: false; log: RawLog; error: string };

/** Every write of the index goes through here, each a single storage transaction. */
export class IndexStore {
  constructor(
    private readonly sql: Sql,
    private readonly storage: DurableObjectStorage,
  ) {}

  state(): StateRow | null {
    return this.sql<StateRow>`SELECT * FROM chain_state WHERE id = 1`[0] ?? null;
  }

  /** The state for `target`, created at its start block the first time; a changed target (RPC URL, limits) is taken on. */
  open(target: ChainTarget): StateRow {
    const row = this.state();
    if (!row) {
      this
        .sql`INSERT INTO chain_state (id, target, cursor, range_size, status) VALUES (1, ${JSON.stringify(target)}, ${target.startBlock - 1}, ${target.maxBlockRange}, 'running')`;
    } else if (row.target !== JSON.stringify(target)) {
      this.sql`UPDATE chain_state SET target = ${JSON.stringify(target)}, range_size = MIN(range_size, ${target.maxBlockRange}) WHERE id = 1`;
    }
    return this.state() as StateRow;
  }

  target(): ChainTarget | null {
    const row = this.state();
    return row ? (JSON.parse(row.target) as ChainTarget) : null;
  }

  observedHead(head: number, safeHead: number, now: number): void {
    this.sql`UPDATE chain_state SET head = ${head}, safe_head = ${safeHead}, last_tick_at = ${now} WHERE id = 1`;
  }

  setRangeSize(size: number): void {
    this.sql`UPDATE chain_state SET range_size = ${size} WHERE id = 1`;
  }

  failed(error: string, now: number): void {
    this.sql`UPDATE chain_state SET last_error = ${error}, last_error_at = ${now}, failures = failures + 1, last_tick_at = ${now} WHERE id = 1`;
  }

  succeeded(now: number): void {
    this.sql`UPDATE chain_state SET failures = 0, last_success_at = ${now} WHERE id = 1`;
  }

  stop(reason: string, now: number): void {
    this.sql`UPDATE chain_state SET status = 'stopped', stop_reason = ${reason}, last_error = ${reason}, last_error_at = ${now} WHERE id = 1`;
  }

  /** The stored block hashes, lowest first. */
  hashes(): { number: number; hash: string }[] {
    return this.sql<{ number: number; hash: string }>`SELECT number, hash FROM block_hashes ORDER BY number`;
  }

  /**
   * Records one range (up to `to`) read from the chain, atomically: its logs
   * (an already stored log is left as it is, so re-reading changes nothing),
   * the mirror, the hashes of its blocks, and the cursor at `to`.
   */
  commitRange(to: number, toHash: string, logs: readonly ReadLog[], target: ChainTarget): number {
    let added = 0;
    this.storage.transactionSync(() => {
      const hashes = new Map<number, string>([[to, toHash]]);
      for (const item of logs) {
        const { log } = item;
        const blockNumber = Number(log.blockNumber);
        const logIndex = log.logIndex ?? 0;
        const blockHash = (log.blockHash ?? "").toLowerCase();
        const txHash = (log.transactionHash ?? "").toLowerCase();
        hashes.set(blockNumber, blockHash);
        if (!item.ok) {
          this.sql`INSERT OR IGNORE INTO undecodable_logs (block_number, log_index, block_hash, tx_hash, address, topics, data, error)
                   VALUES (${blockNumber}, ${logIndex}, ${blockHash}, ${txHash}, ${log.address.toLowerCase()}, ${JSON.stringify(log.topics)}, ${log.data}, ${item.error})`;
          continue;
        }
        const sessionId = item.args.sessionId === undefined ? null : Number(item.args.sessionId);
        const taskId = item.args.taskId === undefined ? null : Number(item.args.taskId);
        const inserted = this.sql<{
          n: number;
        }>`INSERT OR IGNORE INTO events (block_number, log_index, block_hash, tx_hash, address, contract, event_name, session_id, task_id, args, extra)
                 VALUES (${blockNumber}, ${logIndex}, ${blockHash}, ${txHash}, ${log.address.toLowerCase()}, ${item.contract}, ${item.eventName}, ${sessionId}, ${taskId},
                         ${JSON.stringify(item.args)}, ${item.extra ? JSON.stringify(item.extra) : null})
                 RETURNING 1 AS n`;
        if (inserted.length > 0) {
          added++;
          applyToMirror(this.sql, { contract: item.contract, eventName: item.eventName, blockNumber, args: item.args, extra: item.extra });
          if (item.contract === "SessionQueueV2" && item.eventName === "TaskQueued") this.queueDispatch(target, item.args, blockNumber, txHash);
        }
      }
      for (const [number, hash] of hashes) this.sql`INSERT OR REPLACE INTO block_hashes (number, hash) VALUES (${number}, ${hash})`;
      this.sql`DELETE FROM block_hashes WHERE number <= ${to - target.reorgWindow}`;
      this.sql`UPDATE chain_state SET cursor = ${to} WHERE id = 1 AND cursor < ${to}`;
    });
    return added;
  }

  /**
   * A confirmed TaskQueued of a hybrid session (mode 1) this router serves,
   * still active and not taken from every router, becomes a dispatch. Its
   * row outlives resyncs (the chain is the same: a task is dispatched once);
   * a reorg that rewinds its block drops it (`rewind`), and the new branch's
   * TaskQueued at that place makes a new one. Its request id names the
   * task's content, so the same task read again is the same edge task, and
   * a different one in its place is a new edge task.
   */
  private queueDispatch(target: ChainTarget, args: Record<string, JsonValue>, blockNumber: number, txHash: string): void {
    const sessionId = Number(args.sessionId);
    const taskId = Number(args.taskId);
    const edgeSessionId = target.hybridSessions[String(sessionId)];
    if (edgeSessionId === undefined) return;
    const session = this.sql<{
      mode: number | null;
      active: number;
      routers_removed: number;
    }>`SELECT mode, active, routers_removed FROM sessions WHERE session_id = ${sessionId}`[0];
    if (session?.mode !== 1 || session.active !== 1 || session.routers_removed === 1) return;
    const taskData = String(args.taskData ?? "");
    this.sql`INSERT OR IGNORE INTO dispatches (session_id, task_id, edge_session_id, request_id, task_data, status, created_block, queued_tx)
             VALUES (${sessionId}, ${taskId}, ${edgeSessionId}, ${chainRequestId(target.chainId, target.queueAddress, sessionId, taskId, taskData)}, ${taskData}, 'pending', ${blockNumber}, ${txHash})`;
  }

  /** The dispatches due at `now` (never tried, or their retry time has come), oldest first. */
  pendingDispatches(limit: number, now: number): DispatchRow[] {
    return this.sql<DispatchRow>`SELECT * FROM dispatches WHERE status = 'pending' AND (retry_at IS NULL OR retry_at <= ${now})
                                 ORDER BY created_block, session_id, task_id LIMIT ${limit}`;
  }

  /**
   * The miners the chain names for a task, by address: its TaskAssigned's
   * when it was assigned before this router ran it, else its session's
   * (SessionCreated's, less the released). None: undefined.
   */
  namedMiners(sessionId: number, taskId: number): MinerPin | undefined {
    const task = this.sql<{ miners: string }>`SELECT miners FROM tasks WHERE session_id = ${sessionId} AND task_id = ${taskId}`[0];
    const assigned = task ? (JSON.parse(task.miners) as string[]) : [];
    if (assigned.length > 0) return { addresses: assigned, source: "task" };
    const session = this.sql<{ miners: string }>`SELECT miners FROM sessions WHERE session_id = ${sessionId}`[0];
    const named = session ? (JSON.parse(session.miners) as string[]) : [];
    return named.length > 0 ? { addresses: named, source: "session" } : undefined;
  }

  /**
   * Records a dispatch's outcome on the row it ran, and only while that row
   * still waits for it: a reorg may have dropped it (or put another task's
   * content in its place) while the edge task ran.
   */
  recordDispatch(row: DispatchRow, outcome: DispatchOutcome, now: number, writeback: boolean): void {
    this.storage.transactionSync(() => this.#recordDispatch(row, outcome, now, writeback));
  }

  #recordDispatch(row: DispatchRow, outcome: DispatchOutcome, now: number, writeback: boolean): void {
    if (outcome.namedMiners)
      this.sql`UPDATE dispatches SET named_miners = ${JSON.stringify(outcome.namedMiners)} WHERE session_id = ${row.session_id} AND task_id = ${row.task_id}`;
    if (outcome.status === "answered") {
      this.sql`UPDATE dispatches SET status = 'answered', reason = NULL, edge_task_id = ${outcome.edgeTaskId}, result = ${outcome.result}, consensus = ${outcome.consensus},
               attempts = attempts + 1, updated_at = ${now}, retry_at = NULL, writeback_status = ${writeback ? "pending" : null}
               WHERE session_id = ${row.session_id} AND task_id = ${row.task_id} AND request_id = ${row.request_id} AND status = 'pending'`;
    } else {
      // A task that keeps finding no miner fails after a few tries rather than blocking the queue.
      const status = outcome.status === "retry" && row.attempts + 1 < MAX_DISPATCH_ATTEMPTS ? "pending" : "failed";
      this.sql`UPDATE dispatches SET status = ${status}, reason = ${outcome.reason}, attempts = attempts + 1, updated_at = ${now},
               retry_at = ${status === "pending" ? retryAt(now, row.attempts + 1) : null}
               WHERE session_id = ${row.session_id} AND task_id = ${row.task_id} AND request_id = ${row.request_id} AND status = 'pending'`;
    }
  }

  /** The answered tasks whose write-back is due at `now`, oldest first. */
  pendingWritebacks(limit: number, now: number): DispatchRow[] {
    return this.sql<DispatchRow>`SELECT * FROM dispatches WHERE status = 'answered' AND writeback_status = 'pending' AND (retry_at IS NULL OR retry_at <= ${now})
                                 ORDER BY created_block, session_id, task_id LIMIT ${limit}`;
  }

  /** When the earliest dispatch or write-back waiting for its retry time is due; null: none waits. */
  nextRetry(kind: "dispatch" | "writeback"): number | null {
    const row =
      kind === "dispatch"
        ? this.sql<{ at: number | null }>`SELECT MIN(retry_at) AS at FROM dispatches WHERE status = 'pending'`[0]
        : this.sql<{ at: number | null }>`SELECT MIN(retry_at) AS at FROM dispatches WHERE status = 'answered' AND writeback_status = 'pending'`[0];
    return row?.at ?? null;
  }

  /** A write-back that failed is tried again later, a few times, after a growing wait; one that landed keeps its transaction and block. */
  recordWriteback(row: DispatchRow, outcome: WritebackOutcome, now: number): void {
    const status = outcome.ok ? "done" : row.writeback_attempts + 1 < MAX_DISPATCH_ATTEMPTS ? "pending" : "failed";
    this.sql`UPDATE dispatches SET writeback_status = ${status}, writeback_error = ${outcome.ok ? null : outcome.error}, writeback_attempts = writeback_attempts + 1,
             writeback_tx = ${outcome.ok ? outcome.transaction : null}, writeback_block = ${outcome.ok ? outcome.blockNumber : null},
             retry_at = ${status === "pending" ? retryAt(now, row.writeback_attempts + 1) : null}, updated_at = ${now}
             WHERE session_id = ${row.session_id} AND task_id = ${row.task_id} AND request_id = ${row.request_id} AND status = 'answered' AND writeback_status = 'pending'`;
  }

  dispatchOf(sessionId: number, taskId: number): DispatchRow | null {
    return this.sql<DispatchRow>`SELECT * FROM dispatches WHERE session_id = ${sessionId} AND task_id = ${taskId}`[0] ?? null;
  }

  /**
   * Drops everything above `block` (a reorg's common ancestor) and rebuilds
   * the mirror from what is left. A dispatch whose TaskQueued was in a
   * rewound block goes too, written back or not (its write-back came later,
   * so it was rewound as well): the new branch's TaskQueued at its place, if
   * any, queues it again; the same content is the same request id, answered
   * by the edge task that ran, and written back only if the chain says the
   * task is still queued. A task queued below the ancestor whose write-back's
   * block was rewound is pending write-back again, on the same terms.
   */
  rewind(block: number): void {
    this.storage.transactionSync(() => {
      this.sql`DELETE FROM dispatches WHERE created_block > ${block}`;
      this.sql`UPDATE dispatches SET writeback_status = 'pending', writeback_tx = NULL, writeback_block = NULL, retry_at = NULL
               WHERE writeback_status = 'done' AND writeback_block > ${block}`;
      this.dropAbove(block);
      this.sql`UPDATE chain_state SET reorg_count = reorg_count + 1 WHERE id = 1`;
    });
  }

  private dropAbove(block: number): void {
    this.sql`DELETE FROM events WHERE block_number > ${block}`;
    this.sql`DELETE FROM undecodable_logs WHERE block_number > ${block}`;
    this.sql`DELETE FROM block_hashes WHERE number > ${block}`;
    this.sql`UPDATE chain_state SET cursor = ${block} WHERE id = 1`;
    rebuildMirror(this.sql);
  }

  /** An admin's resync: everything from `fromBlock` on is read again, and a stopped index runs again. */
  resync(fromBlock: number): void {
    this.storage.transactionSync(() => {
      this.sql`DELETE FROM block_hashes`;
      this.sql`UPDATE chain_state SET status = 'running', stop_reason = NULL, failures = 0 WHERE id = 1`;
      this.dropAbove(fromBlock - 1);
    });
  }
}
