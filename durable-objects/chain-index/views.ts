import { CHAIN_SESSION_MODES, type ChainDispatch, type ChainEvent, type ChainSession, type ChainTask, type UndecodableLog } from "../../domain/schemas/chain";
import type { DispatchRow, EventRow, SessionRow, TaskRow, UndecodableRow } from "./schema";

/** How the index's rows read in the API. */
export function sessionView(row: SessionRow, chainId: number): ChainSession {
  return {
    source: "chain",
    chain_id: chainId,
    session_id: row.session_id,
    sid: row.sid,
    owner: row.owner,
    name: row.name,
    metadata: row.metadata,
    min_nodes: row.min_nodes,
    max_nodes: row.max_nodes,
    redundant: row.redundant,
    validator_nodes: row.validator_nodes,
    mode: row.mode,
    mode_name: row.mode === null ? null : (CHAIN_SESSION_MODES[row.mode] ?? null),
    reserve_ephemeral_nodes: row.reserve_ephemeral === null ? null : row.reserve_ephemeral === 1,
    miners: JSON.parse(row.miners),
    deposited: row.deposited,
    withdrawn: row.withdrawn,
    balance: row.balance,
    active: row.active === 1,
    routers_removed: row.routers_removed === 1,
    created_block: row.created_block,
    updated_block: row.updated_block,
  };
}

export function taskView(row: TaskRow): ChainTask {
  return {
    session_id: row.session_id,
    task_id: row.task_id,
    global_id: row.global_id,
    task_data: row.task_data,
    status: row.status as ChainTask["status"],
    miners: JSON.parse(row.miners),
    node_ids: JSON.parse(row.node_ids),
    acked: JSON.parse(row.acked),
    precommitted: JSON.parse(row.precommitted),
    committed: JSON.parse(row.committed),
    results: row.results ? JSON.parse(row.results) : null,
    queued_block: row.queued_block,
    updated_block: row.updated_block,
  };
}

export function eventView(row: EventRow): ChainEvent {
  return {
    block_number: row.block_number,
    log_index: row.log_index,
    block_hash: row.block_hash,
    tx_hash: row.tx_hash,
    contract: row.contract as ChainEvent["contract"],
    address: row.address,
    event: row.event_name,
    session_id: row.session_id,
    task_id: row.task_id,
    args: JSON.parse(row.args),
    extra: row.extra ? JSON.parse(row.extra) : null,
  };
}

export function undecodableView(row: UndecodableRow): UndecodableLog {
  return { ...row, topics: JSON.parse(row.topics) };
}

export function dispatchView(row: DispatchRow): ChainDispatch {
  return {
    edge_session_id: row.edge_session_id,
    request_id: row.request_id,
    queued_tx: row.queued_tx,
    status: row.status as ChainDispatch["status"],
    reason: row.reason,
    edge_task_id: row.edge_task_id,
    result: row.result,
    consensus: row.consensus,
    attempts: row.attempts,
    writeback: row.writeback_status
      ? { status: row.writeback_status as "pending" | "done" | "failed", error: row.writeback_error, transaction: row.writeback_tx, block_number: row.writeback_block }
      : null,
    named_miners: row.named_miners ? JSON.parse(row.named_miners) : null,
  };
}
