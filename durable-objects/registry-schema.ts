import type { MinerProtocol } from "../domain/schemas/miner";
import { ACTIVITY_BATCHES_MIGRATION, ACTIVITY_DAYS_MIGRATION } from "./activity-days";
import { RUN_TIME_SETTINGS_MIGRATION } from "./run-time-settings";
import { WALLET_ADDRESSES_MIGRATION } from "./wallet-addresses";

/** The miner registry's schema, one migration a version (docs/storage-schema.md). */
export const REGISTRY_MIGRATIONS = [
  `CREATE TABLE miners (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     url TEXT NOT NULL,
     credential_sealed TEXT NOT NULL,
     evm_address TEXT,
     models TEXT NOT NULL,
     max_concurrency INTEGER NOT NULL,
     healthy INTEGER NOT NULL DEFAULT 1,
     consecutive_failures INTEGER NOT NULL DEFAULT 0,
     last_health_check_at INTEGER,
     last_error TEXT,
     reputation REAL NOT NULL,
     latency_ms REAL,
     agreed INTEGER NOT NULL DEFAULT 0,
     disagreed INTEGER NOT NULL DEFAULT 0,
     failed INTEGER NOT NULL DEFAULT 0,
     timed_out INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE sessions (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL,
     model TEXT NOT NULL,
     redundancy INTEGER NOT NULL,
     mode TEXT NOT NULL,
     active INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );`,
  `ALTER TABLE miners ADD COLUMN offchain INTEGER NOT NULL DEFAULT 0;`,
  `ALTER TABLE miners ADD COLUMN request_failed INTEGER NOT NULL DEFAULT 0;`,
  `CREATE TABLE report_batches (
     batch_id TEXT PRIMARY KEY,
     received_at INTEGER NOT NULL
   );
   CREATE INDEX report_batches_received ON report_batches (received_at);`,
  `ALTER TABLE miners ADD COLUMN protocol TEXT NOT NULL DEFAULT 'openai';`,
  `ALTER TABLE miners ADD COLUMN node_report TEXT;`,
  `ALTER TABLE miners ADD COLUMN training_report TEXT;`,
  RUN_TIME_SETTINGS_MIGRATION,
  `ALTER TABLE miners ADD COLUMN payout_account TEXT;`,
  // The directory of gateway customers (wallet accounts): a Durable Object namespace cannot be listed.
  // Each Ledger lists itself (durable-objects/ledger.ts); the conservation check and GET /v1/admin/customers read it.
  `CREATE TABLE IF NOT EXISTS accounts (
     customer_id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     billing TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     listed_at INTEGER NOT NULL
   );`,
  // Each payout account's stake multiplier as last read from (or pushed by) its Ledger: selection weighs miners by it.
  `CREATE TABLE stake_multipliers (
     account TEXT PRIMARY KEY,
     multiplier REAL NOT NULL,
     refreshed_at INTEGER NOT NULL
   );`,
  // An operator's bench: out of every pool until unbenched, whatever its health probes say.
  `ALTER TABLE miners ADD COLUMN benched INTEGER NOT NULL DEFAULT 0;`,
  // Trial and x402 activity by day (activity-days.ts), summed from the isolates' batches.
  ACTIVITY_DAYS_MIGRATION,
  // A miner's address is its own: unique among registered miners, and proven by a signature over a
  // single-use challenge (address_challenges; domain/miners/address-proof.ts). Addresses registered
  // before proofs were asked are unproven: they are cleared, and sign nothing until re-registered with a proof.
  `UPDATE miners SET evm_address = NULL;
   CREATE UNIQUE INDEX miners_evm_address ON miners (lower(evm_address));
   CREATE TABLE address_challenges (
     nonce TEXT PRIMARY KEY,
     issued_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     used_at INTEGER
   );`,
  // Each payout account's locked stake and tier, as last read from (or pushed by) its Ledger: selection divides
  // it among the account's miners (domain/wallet/stake-weight.ts). It replaces the flat per-account multiplier.
  `DROP TABLE stake_multipliers;
   CREATE TABLE account_stakes (
     account TEXT PRIMARY KEY,
     staked_micros INTEGER NOT NULL,
     tier_bps INTEGER NOT NULL,
     refreshed_at INTEGER NOT NULL
   );`,
  // The activity batches applied lately (activity-days.ts): a retried batch counts once.
  ACTIVITY_BATCHES_MIGRATION,
  // Miners joining by themselves (workers/router/miner-join-routes.ts): a joined miner holds a lease (ms) it
  // renews by joining again, and is not selected past it; an admin-registered one has none (NULL). A join's
  // nonce is used once per address, remembered until its signed time is stale anyway. A banned address cannot
  // join, and every miner under it is benched.
  `ALTER TABLE miners ADD COLUMN source TEXT NOT NULL DEFAULT 'admin';
   ALTER TABLE miners ADD COLUMN lease_expires_at INTEGER;
   CREATE TABLE join_nonces (
     address TEXT NOT NULL,
     nonce TEXT NOT NULL,
     expires_at INTEGER NOT NULL,
     PRIMARY KEY (address, nonce)
   );
   CREATE INDEX join_nonces_expiry ON join_nonces (expires_at);
   CREATE TABLE banned_addresses (
     address TEXT PRIMARY KEY,
     reason TEXT NOT NULL,
     banned_at INTEGER NOT NULL
   );`,
  // Probation (domain/miners/probation.ts): agreeing results a miner still needs before it is established; 0: established.
  // Every miner registered before it is established.
  `ALTER TABLE miners ADD COLUMN probation_remaining INTEGER NOT NULL DEFAULT 0;`,
  // The EVM addresses customers proved for their wallet accounts (wallet-addresses.ts): a send to `0x…` reaches them.
  WALLET_ADDRESSES_MIGRATION,
];

/** An account's kept stake as a query over `miners` joined with `account_stakes` reads it, with how many miners pay out to the account. */
export type StakeColumns = { staked_micros: number | null; tier_bps: number | null; refreshed_at: number | null; account_miners: number };

export type MinerRow = {
  id: string;
  name: string;
  url: string;
  credential_sealed: string;
  evm_address: string | null;
  models: string;
  max_concurrency: number;
  offchain: number;
  protocol: MinerProtocol;
  payout_account: string | null;
  /** admin: registered by an operator; joined: joined by itself, with a lease. */
  source: "admin" | "joined";
  /** A joined miner's lease (ms): not selected past it. NULL: admin-registered, no lease. */
  lease_expires_at: number | null;
  node_report: string | null;
  training_report: string | null;
  healthy: number;
  /** 1: an operator benched it (PATCH `benched: true`): offered to no session, whatever its probes say. */
  benched: number;
  /** Agreeing results it still needs to leave probation (domain/miners/probation.ts); 0: established. */
  probation_remaining: number;
  consecutive_failures: number;
  last_health_check_at: number | null;
  last_error: string | null;
  reputation: number;
  latency_ms: number | null;
  agreed: number;
  disagreed: number;
  failed: number;
  timed_out: number;
  request_failed: number;
  created_at: number;
  updated_at: number;
};
