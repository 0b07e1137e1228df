import type { JsonValue } from "../../domain/chain/decode-log";
import type { Sql } from "../sqlite-object";

/** An indexed event as the mirror applies it. */
export type MirrorEvent = { contract: string; eventName: string; blockNumber: number; args: Record<string, JsonValue>; extra: Record<string, JsonValue> | null };

const str = (v: JsonValue | undefined): string => (typeof v === "string" ? v : String(v ?? ""));
const int = (v: JsonValue | undefined): number => Number(v);
const list = (v: JsonValue | undefined): string[] => (Array.isArray(v) ? v.map(str) : []);
const addTo = (json: string, item: string): string => {
  const items = JSON.parse(json) as string[];
  return JSON.stringify(items.includes(item) ? items : [...items, item]);
};
/** A node id is its address left-padded to 32 bytes (see contracts/SessionV2.sol). */
const nodeAddress = (nodeId: string): string => `0x${nodeId.slice(-40)}`.toLowerCase();

/** The session settings the enrichment read with getSession at the event's block, if it could. */
type SessionSettings = {
  name: string;
  metadata: string;
  minNumOfNodes: string;
  maxNumOfNodes: string;
  redundant: string;
  numOfValidatorNodes: string;
  mode: string;
  reserveEphemeralNodes: boolean;
};
const settingsOf = (extra: MirrorEvent["extra"]): SessionSettings | null => (extra && typeof extra.session === "object" ? (extra.session as unknown as SessionSettings) : null);

/**
 * Applies one event to the mirror tables. The mirror is a function of the
 * events table alone: applied in (block, log index) order, from nothing, it
 * gives the same rows (which is how a rewind rebuilds it).
 */
export function applyToMirror(sql: Sql, e: MirrorEvent): void {
  const a = e.args;
  const block = e.blockNumber;
  const key = `${e.contract}.${e.eventName}`;
  switch (key) {
    case "SessionV2.SessionCreated": {
      const s = settingsOf(e.extra);
      sql`INSERT OR REPLACE INTO sessions (session_id, sid, owner, name, metadata, min_nodes, max_nodes, redundant, validator_nodes, mode, reserve_ephemeral, miners, created_block, updated_block)
          VALUES (${int(a.sessionId)}, ${str(a.sid)}, ${str(a.owner)}, ${s?.name ?? null}, ${s?.metadata ?? null}, ${s ? int(s.minNumOfNodes) : null}, ${s ? int(s.maxNumOfNodes) : null},
                  ${s ? int(s.redundant) : null}, ${s ? int(s.numOfValidatorNodes) : null}, ${s ? int(s.mode) : null}, ${s ? Number(s.reserveEphemeralNodes) : null},
                  ${JSON.stringify(list(a.miners))}, ${block}, ${block})`;
      return;
    }
    case "SessionV2.SessionUpdated": {
      const s = settingsOf(e.extra);
      sql`UPDATE sessions SET min_nodes = ${int(a.minNumOfNodes)}, max_nodes = ${int(a.maxNumOfNodes)}, redundant = ${int(a.redundant)},
          name = COALESCE(${s?.name ?? null}, name), metadata = COALESCE(${s?.metadata ?? null}, metadata), updated_block = ${block}
          WHERE session_id = ${int(a.sessionId)}`;
      return;
    }
    case "SessionV2.SessionDeactivated":
      sql`UPDATE sessions SET active = 0, updated_block = ${block} WHERE session_id = ${int(a.sessionId)}`;
      return;
    case "SessionV2.AllRoutersRemoved":
      sql`UPDATE sessions SET routers_removed = 1, updated_block = ${block} WHERE session_id = ${int(a.sessionId)}`;
      return;
    case "SessionV2.NodeReleased": {
      const row = sql<{ miners: string }>`SELECT miners FROM sessions WHERE session_id = ${int(a.sessionId)}`[0];
      if (!row) return;
      const released = nodeAddress(str(a.nodeId));
      const miners = (JSON.parse(row.miners) as string[]).filter((m) => m !== released);
      sql`UPDATE sessions SET miners = ${JSON.stringify(miners)}, updated_block = ${block} WHERE session_id = ${int(a.sessionId)}`;
      return;
    }
    case "SessionV2.DepositToSession":
    case "SessionV2.WithdrawFromSession": {
      const row = sql<{ deposited: string; withdrawn: string; balance: string }>`SELECT deposited, withdrawn, balance FROM sessions WHERE session_id = ${int(a.sessionId)}`[0];
      if (!row) return;
      const amount = BigInt(str(a.amount));
      const deposit = e.eventName === "DepositToSession";
      const deposited = BigInt(row.deposited) + (deposit ? amount : 0n);
      const withdrawn = BigInt(row.withdrawn) + (deposit ? 0n : amount);
      const balance = BigInt(row.balance) + (deposit ? amount : -amount);
      sql`UPDATE sessions SET deposited = ${deposited.toString()}, withdrawn = ${withdrawn.toString()}, balance = ${balance.toString()}, updated_block = ${block}
          WHERE session_id = ${int(a.sessionId)}`;
      return;
    }
    case "SessionV2.RouterAdded":
    case "SessionV2.RouterUpdated":
      sql`INSERT INTO routers (address, info, active) VALUES (${str(a.routerAddress)}, ${str(a.routerInfo)}, 1)
          ON CONFLICT (address) DO UPDATE SET info = excluded.info, active = 1`;
      return;
    case "SessionV2.RouterRemoved":
      sql`UPDATE routers SET active = 0, info = '' WHERE address = ${str(a.routerAddress)}`;
      return;
    case "SessionV2.DedicatedNodeAdded":
      sql`INSERT INTO dedicated_nodes (address, active) VALUES (${str(a.nodeAddress)}, 1) ON CONFLICT (address) DO UPDATE SET active = 1`;
      return;
    case "SessionV2.DedicatedNodeRemoved":
      sql`UPDATE dedicated_nodes SET active = 0 WHERE address = ${str(a.nodeAddress)}`;
      return;
    case "SessionV2.TaskAssigned":
      sql`UPDATE tasks SET node_ids = ${JSON.stringify(list(a.nodeIds))} WHERE session_id = ${int(a.sessionId)} AND task_id = ${int(a.taskId)}`;
      return;
    case "SessionQueueV2.TaskQueued":
      sql`INSERT OR REPLACE INTO tasks (session_id, task_id, global_id, task_data, status, queued_block, updated_block)
          VALUES (${int(a.sessionId)}, ${int(a.taskId)}, ${int(a.globalId)}, ${str(a.taskData)}, 'queued', ${block}, ${block})`;
      return;
    case "SessionQueueV2.TaskAssigned":
      sql`UPDATE tasks SET status = 'assigned', miners = ${JSON.stringify(list(a.miners))}, updated_block = ${block}
          WHERE session_id = ${int(a.sessionId)} AND task_id = ${int(a.taskId)}`;
      return;
    case "SessionQueueV2.TaskAcked":
    case "SessionQueueV2.TaskPrecommitted":
    case "SessionQueueV2.TaskCommitted": {
      const column = e.eventName === "TaskAcked" ? "acked" : e.eventName === "TaskPrecommitted" ? "precommitted" : "committed";
      const row = sql<Record<string, string>>`SELECT acked, precommitted, committed FROM tasks WHERE session_id = ${int(a.sessionId)} AND task_id = ${int(a.taskId)}`[0];
      if (!row) return;
      const next = addTo(row[column] ?? "[]", str(a.miner));
      if (column === "acked") sql`UPDATE tasks SET acked = ${next}, updated_block = ${block} WHERE session_id = ${int(a.sessionId)} AND task_id = ${int(a.taskId)}`;
      else if (column === "precommitted")
        sql`UPDATE tasks SET precommitted = ${next}, updated_block = ${block} WHERE session_id = ${int(a.sessionId)} AND task_id = ${int(a.taskId)}`;
      else sql`UPDATE tasks SET committed = ${next}, updated_block = ${block} WHERE session_id = ${int(a.sessionId)} AND task_id = ${int(a.taskId)}`;
      return;
    }
    case "SessionQueueV2.TaskPrecommitEnded":
    case "SessionQueueV2.TaskCommitEnded": {
      const status = e.eventName === "TaskPrecommitEnded" ? "precommit_ended" : "commit_ended";
      sql`UPDATE tasks SET status = ${status}, updated_block = ${block} WHERE session_id = ${int(a.sessionId)} AND task_id = ${int(a.taskId)}`;
      return;
    }
    case "SessionQueueV2.TaskEnded": {
      const results = e.extra && typeof e.extra.results === "object" ? JSON.stringify(e.extra.results) : null;
      sql`UPDATE tasks SET status = 'ended', results = ${results}, updated_block = ${block} WHERE session_id = ${int(a.sessionId)} AND task_id = ${int(a.taskId)}`;
      return;
    }
    // TaskSubmitted, TaskAllPrecommitted and TaskAllCommitted are history only (the events table).
    default:
      return;
  }
}

/** Empties the mirror and applies every stored event again, in chain order. */
export function rebuildMirror(sql: Sql): void {
  sql`DELETE FROM sessions`;
  sql`DELETE FROM tasks`;
  sql`DELETE FROM routers`;
  sql`DELETE FROM dedicated_nodes`;
  const rows = sql<{ contract: string; event_name: string; block_number: number; args: string; extra: string | null }>`
    SELECT contract, event_name, block_number, args, extra FROM events ORDER BY block_number, log_index`;
  for (const r of rows) {
    applyToMirror(sql, { contract: r.contract, eventName: r.event_name, blockNumber: r.block_number, args: JSON.parse(r.args), extra: r.extra ? JSON.parse(r.extra) : null });
  }
}
