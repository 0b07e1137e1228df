import type { UsageRecord } from "../domain/gateway/schemas";
import type { RewardRole } from "../domain/rewards/miner-rewards";
import type { JournalType } from "./wallet/journal";
import { SOURCES_MIGRATION } from "./wallet/sources";
import { WALLET_MIGRATION } from "./wallet/schema";
import { SETTLEMENTS_MIGRATION } from "./wallet/settlements";

/** The Ledger's schema, one migration a version (docs/storage-schema.md). */
export const LEDGER_MIGRATIONS = [
  `CREATE TABLE customer (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     customer_id TEXT NOT NULL,
     name TEXT NOT NULL,
     billing TEXT NOT NULL,
     balance_micros INTEGER NOT NULL,
     spent_micros INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE keys (
     id TEXT PRIMARY KEY,
     key_hash TEXT NOT NULL UNIQUE,
     name TEXT NOT NULL,
     prefix TEXT NOT NULL,
     allowed_models TEXT NOT NULL,
     requests_per_minute INTEGER NOT NULL,
     tokens_per_minute INTEGER NOT NULL,
     spend_limit_micros INTEGER,
     spent_micros INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     rotated_at INTEGER,
     revoked_at INTEGER
   );
   CREATE TABLE usage (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     request_id TEXT NOT NULL UNIQUE,
     key_id TEXT NOT NULL,
     model TEXT NOT NULL,
     router_pool TEXT NOT NULL,
     session_id INTEGER,
     task_id INTEGER,
     prompt_tokens INTEGER NOT NULL,
     completion_tokens INTEGER NOT NULL,
     latency_ms INTEGER NOT NULL,
     status TEXT NOT NULL,
     error_code TEXT,
     cost_micros INTEGER NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE INDEX usage_at ON usage (at);`,
  // Miner rewards credited here (this customer is a miner's payout account), once by (session, task, miner).
  `CREATE TABLE rewards (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     reward_key TEXT NOT NULL UNIQUE,
     session_id INTEGER NOT NULL,
     task_id INTEGER NOT NULL,
     miner_id TEXT NOT NULL,
     amount_micros INTEGER NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE INDEX rewards_at ON rewards (at);`,
  // The wallet: the journal of every other balance change, transfers, the stake and unstakes (wallet/schema.ts).
  WALLET_MIGRATION,
  // A reward's role and slot in its task; a reward to an account with no customer yet is held (credited_at NULL) until it has one.
  `ALTER TABLE rewards ADD COLUMN role TEXT NOT NULL DEFAULT 'validator';
   ALTER TABLE rewards ADD COLUMN slot INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE rewards ADD COLUMN credited_at INTEGER;
   UPDATE rewards SET credited_at = at;`,
  // A key's scopes (domain/gateway/key-scopes.ts). Keys issued before them keep completions and wallet
  // reads and lose nothing else they could do safely: none may move money until an admin grants wallet:move
  // (POST …/keys/{keyId}/rotate with scopes).
  `ALTER TABLE keys ADD COLUMN scopes TEXT NOT NULL DEFAULT '["completions","wallet:read"]';`,
  // Money from declared sources (wallet/sources.ts): a source account's issues, its tasks' funds and its pool's days; each reward names its source.
  SOURCES_MIGRATION,
  // Earnings settled on chain (wallet/settlements.ts): what left this payout account for a RewardDistributor, once by (distributor, round, miner).
  SETTLEMENTS_MIGRATION,
];

export type KeyRow = {
  id: string;
  key_hash: string;
  name: string;
  prefix: string;
  allowed_models: string;
  requests_per_minute: number;
  tokens_per_minute: number;
  spend_limit_micros: number | null;
  spent_micros: number;
  created_at: number;
  rotated_at: number | null;
  revoked_at: number | null;
  /** JSON array of KeyScope. */
  scopes: string;
};
export type CustomerRow = {
  customer_id: string;
  name: string;
  billing: "prepaid" | "postpaid";
  balance_micros: number;
  spent_micros: number;
  created_at: number;
  listed_at: number | null;
};
export type UsageRow = Omit<UsageRecord, "at" | "status"> & { status: "ok" | "failed"; at: number };

export type UsageInput = Omit<UsageRow, "id" | "at">;
/** One balance change, as the wallet lists them (workers/neuroshard/wallet.ts); amounts in micros, `amount_micros` the change to the available balance. */
export type LedgerEntry =
  | {
      type: "reward";
      id: number;
      amount_micros: number;
      at: number;
      session_id: number;
      task_id: number;
      miner_id: string;
      role: RewardRole;
      slot: number;
      request_id: null;
      model: null;
    }
  | {
      type: "usage";
      id: number;
      amount_micros: number;
      at: number;
      session_id: number | null;
      task_id: number | null;
      miner_id: null;
      role: null;
      slot: null;
      request_id: string;
      model: string;
    }
  | {
      type: JournalType;
      id: number;
      amount_micros: number;
      at: number;
      staked_micros: number;
      pending_micros: number;
      ref: string | null;
      counterparty: string | null;
      memo: string | null;
      /** JSON of the entry's details (durable-objects/wallet/). */
      details: string | null;
    };
