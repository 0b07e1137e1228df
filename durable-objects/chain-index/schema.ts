/**
 * The Chain index object's tables. `events` and `undecodable_logs` are what
 * was read from the chain; `sessions`, `tasks`, `routers` and
 * `dedicated_nodes` are the mirror, a function of `events` alone (rebuilt
 * from them after a rewind). Every uint256 that may exceed 2^53 (wei
 * amounts) is decimal TEXT; ids are INTEGER.
 */
export const MIGRATIONS = [
  `CREATE TABLE chain_state (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     target TEXT NOT NULL,
     cursor INTEGER NOT NULL,
     range_size INTEGER NOT NULL,
     status TEXT NOT NULL,
     stop_reason TEXT,
     last_error TEXT,
     last_error_at INTEGER,
     failures INTEGER NOT NULL DEFAULT 0,
     reorg_count INTEGER NOT NULL DEFAULT 0,
     head INTEGER,
     safe_head INTEGER,
     last_tick_at INTEGER,
     last_success_at INTEGER
   );
   CREATE TABLE block_hashes (
     number INTEGER PRIMARY KEY,
     hash TEXT NOT NULL
   );
   CREATE TABLE events (
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     block_hash TEXT NOT NULL,
     tx_hash TEXT NOT NULL,
     address TEXT NOT NULL,
     contract TEXT NOT NULL,
     event_name TEXT NOT NULL,
     session_id INTEGER,
     task_id INTEGER,
     args TEXT NOT NULL,
     extra TEXT,
     PRIMARY KEY (block_number, log_index)
   );
   CREATE INDEX events_by_session ON events (session_id, task_id, block_number, log_index);
   CREATE INDEX events_by_name ON events (event_name, block_number, log_index);
   CREATE TABLE undecodable_logs (
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     block_hash TEXT NOT NULL,
     tx_hash TEXT NOT NULL,
     address TEXT NOT NULL,
     topics TEXT NOT NULL,
     data TEXT NOT NULL,
     error TEXT NOT NULL,
     PRIMARY KEY (block_number, log_index)
   );
   CREATE TABLE sessions (
     session_id INTEGER PRIMARY KEY,
     sid TEXT NOT NULL,
     owner TEXT NOT NULL,
     name TEXT,
     metadata TEXT,
     min_nodes INTEGER,
     max_nodes INTEGER,
     redundant INTEGER,
     validator_nodes INTEGER,
     mode INTEGER,
     reserve_ephemeral INTEGER,
     miners TEXT NOT NULL,
     deposited TEXT NOT NULL DEFAULT '0',
     withdrawn TEXT NOT NULL DEFAULT '0',
     balance TEXT NOT NULL DEFAULT '0',
     active INTEGER NOT NULL DEFAULT 1,
     routers_removed INTEGER NOT NULL DEFAULT 0,
     created_block INTEGER NOT NULL,
     updated_block INTEGER NOT NULL
   );
   CREATE INDEX sessions_by_owner ON sessions (owner, session_id);
   CREATE TABLE tasks (
     session_id INTEGER NOT NULL,
     task_id INTEGER NOT NULL,
     global_id INTEGER NOT NULL,
     task_data TEXT NOT NULL,
     status TEXT NOT NULL,
     miners TEXT NOT NULL DEFAULT '[]',
     node_ids TEXT NOT NULL DEFAULT '[]',
     acked TEXT NOT NULL DEFAULT '[]',
     precommitted TEXT NOT NULL DEFAULT '[]',
     committed TEXT NOT NULL DEFAULT '[]',
     results TEXT,
     queued_block INTEGER NOT NULL,
     updated_block INTEGER NOT NULL,
     PRIMARY KEY (session_id, task_id)
   );
   CREATE TABLE routers (
     address TEXT PRIMARY KEY,
     info TEXT NOT NULL,
     active INTEGER NOT NULL
   );
   CREATE TABLE dedicated_nodes (
     address TEXT PRIMARY KEY,
     active INTEGER NOT NULL
   );`,
  // Hybrid dispatch: kept through rewinds and resyncs, so a task is never dispatched twice.
  `CREATE TABLE dispatches (
     session_id INTEGER NOT NULL,
     task_id INTEGER NOT NULL,
     edge_session_id INTEGER NOT NULL,
     request_id TEXT NOT NULL,
     task_data TEXT NOT NULL,
     status TEXT NOT NULL,
     reason TEXT,
     edge_task_id INTEGER,
     result TEXT,
     consensus TEXT,
     attempts INTEGER NOT NULL DEFAULT 0,
     created_block INTEGER NOT NULL,
     updated_at INTEGER,
     PRIMARY KEY (session_id, task_id)
   );
   CREATE INDEX dispatches_pending ON dispatches (status, created_block);`,
  // Write-back of answered hybrid tasks to the queue contract (CHAIN_WRITEBACK).
  `ALTER TABLE dispatches ADD COLUMN writeback_status TEXT;
   ALTER TABLE dispatches ADD COLUMN writeback_error TEXT;
   ALTER TABLE dispatches ADD COLUMN writeback_attempts INTEGER NOT NULL DEFAULT 0;`,
  // Anchored receipts (an instance per ReceiptAnchor contract, `anchorStub`): each receipt's leaf, queued
  // until its batch is sealed (batch, proof set), and each sealed batch until its root is on chain (tx_hash).
  `CREATE TABLE anchor_leaves (
     session_id INTEGER NOT NULL,
     task_id INTEGER NOT NULL,
     leaf TEXT NOT NULL,
     queued_at INTEGER NOT NULL,
     batch INTEGER,
     proof TEXT,
     PRIMARY KEY (session_id, task_id)
   );
   CREATE INDEX anchor_leaves_queued ON anchor_leaves (batch, queued_at);
   CREATE TABLE anchor_batches (
     batch INTEGER PRIMARY KEY,
     root TEXT NOT NULL,
     count INTEGER NOT NULL,
     sealed_at INTEGER NOT NULL,
     tx_hash TEXT,
     block_number INTEGER,
     attempts INTEGER NOT NULL DEFAULT 0,
     last_error TEXT
   );`,
  // Chain-named miners of a dispatch (domain/miners/miner-pin.ts): the addresses named, and which the router could not reach.
  `ALTER TABLE dispatches ADD COLUMN named_miners TEXT;`,
  // Claimable rewards (an instance per RewardDistributor, `rewardsStub`): each sealed epoch (its root over every
  // proven miner address's cumulative earnings) until its root is on chain (tx_hash), and each address's leaf and proof.
  `CREATE TABLE reward_epochs (
     epoch INTEGER PRIMARY KEY,
     root TEXT NOT NULL,
     total_micros INTEGER NOT NULL,
     addresses INTEGER NOT NULL,
     sealed_at INTEGER NOT NULL,
     tx_hash TEXT,
     block_number INTEGER,
     attempts INTEGER NOT NULL DEFAULT 0,
     last_error TEXT
   );
   CREATE TABLE reward_leaves (
     epoch INTEGER NOT NULL,
     address TEXT NOT NULL,
     miner_id TEXT NOT NULL,
     cumulative_micros INTEGER NOT NULL,
     proof TEXT NOT NULL,
     PRIMARY KEY (epoch, address)
   );`,
  // Due work (due-work.ts): one alarm, one row per kind of work (tick, dispatch, writeback, anchor) with the
  // time it is next due. A dispatch names its task's content (queued_tx, and the data hash in request_id),
  // waits until retry_at after a failure, and keeps the transaction and block of its write-back, so a reorg
  // that rewinds that block makes it pending again.
  `CREATE TABLE due_work (
     kind TEXT PRIMARY KEY,
     due_at INTEGER NOT NULL
   );
   ALTER TABLE dispatches ADD COLUMN queued_tx TEXT;
   ALTER TABLE dispatches ADD COLUMN retry_at INTEGER;
   ALTER TABLE dispatches ADD COLUMN writeback_tx TEXT;
   ALTER TABLE dispatches ADD COLUMN writeback_block INTEGER;`,
];

export type StateRow = {
  target: string;
  cursor: number;
  range_size: number;
  status: string;
  stop_reason: string | null;
  last_error: string | null;
  last_error_at: number | null;
  failures: number;
  reorg_count: number;
  head: number | null;
  safe_head: number | null;
  last_tick_at: number | null;
  last_success_at: number | null;
};

export type EventRow = {
  block_number: number;
  log_index: number;
  block_hash: string;
  tx_hash: string;
  address: string;
  contract: string;
  event_name: string;
  session_id: number | null;
  task_id: number | null;
  args: string;
  extra: string | null;
};

export type SessionRow = {
  session_id: number;
  sid: string;
  owner: string;
  name: string | null;
  metadata: string | null;
  min_nodes: number | null;
  max_nodes: number | null;
  redundant: number | null;
  validator_nodes: number | null;
  mode: number | null;
  reserve_ephemeral: number | null;
  miners: string;
  deposited: string;
  withdrawn: string;
  balance: string;
  active: number;
  routers_removed: number;
  created_block: number;
  updated_block: number;
};

export type TaskRow = {
  session_id: number;
  task_id: number;
  global_id: number;
  task_data: string;
  status: string;
  miners: string;
  node_ids: string;
  acked: string;
  precommitted: string;
  committed: string;
  results: string | null;
  queued_block: number;
  updated_block: number;
};

export type UndecodableRow = {
  block_number: number;
  log_index: number;
  block_hash: string;
  tx_hash: string;
  address: string;
  topics: string;
  data: string;
  error: string;
};

export type DispatchRow = {
  session_id: number;
  task_id: number;
  edge_session_id: number;
  request_id: string;
  task_data: string;
  status: string;
  reason: string | null;
  edge_task_id: number | null;
  result: string | null;
  consensus: string | null;
  attempts: number;
  created_block: number;
  updated_at: number | null;
  writeback_status: string | null;
  writeback_error: string | null;
  writeback_attempts: number;
  /** `ChainDispatch["named_miners"]` as JSON; null: the chain named none. */
  named_miners: string | null;
  queued_tx: string | null;
  retry_at: number | null;
  writeback_tx: string | null;
  writeback_block: number | null;
};
