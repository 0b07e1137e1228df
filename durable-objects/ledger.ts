import { z } from "zod";
import type { Env } from "../workers/env";
import { hashKey, keyPrefix, newCustomerKey } from "../workers/gateway/keys";
import type { KeyState } from "../workers/gateway/key-state";
import type { Balance, CustomerCreate, KeyIssue, KeyPublic, UsageRecord } from "../workers/gateway/schemas";
import { type MinerReward, type RewardRole, rewardKey } from "../workers/rewards/miner-rewards";
import { ApiError, type ErrorDetails, type Failure } from "../workers/http/errors";
import { onlyRow, SqliteObject } from "./sqlite-object";

const MIGRATIONS = [
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
  // A reward's role and slot in its task; a reward to an account with no customer yet is held (credited_at NULL) until it has one.
  `ALTER TABLE rewards ADD COLUMN role TEXT NOT NULL DEFAULT 'validator';
   ALTER TABLE rewards ADD COLUMN slot INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE rewards ADD COLUMN credited_at INTEGER;
   UPDATE rewards SET credited_at = at;`,
];

type KeyRow = {
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
};
type CustomerRow = { customer_id: string; name: string; billing: "prepaid" | "postpaid"; balance_micros: number; spent_micros: number; created_at: number };
type UsageRow = Omit<UsageRecord, "at" | "status"> & { status: "ok" | "failed"; at: number };

export type UsageInput = Omit<UsageRow, "id" | "at">;
/** One balance change, as the wallet lists them (workers/neuroshard/wallet.ts). */
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
    };

const AllowedModels = z.array(z.string());
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const fail = (status: 401, code: string, message: string, details?: ErrorDetails): Failure => new ApiError(status, code, message, details).toFailure();

/**
 * One per gateway customer: its API keys (hashes only), its balance and
 * spend, and its usage records. A gateway isolate reads a key's state here
 * (`keyState`) and keeps it for a few seconds (workers/gateway/key-cache.ts);
 * every request is billed here after its answer, in the isolate's batches
 * (`recordUsages`, which hands back the keys' fresh states; a parked record
 * comes back one at a time, `recordUsage`).
 */
export class LedgerObject extends SqliteObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, MIGRATIONS);
  }

  private keyRow(id: string): KeyRow {
    return onlyRow(this.sql<KeyRow>`SELECT * FROM keys WHERE id = ${id}`, `key ${id}`);
  }

  private customerRow(): CustomerRow | undefined {
    return this.sql<CustomerRow>`SELECT * FROM customer WHERE id = 1`[0];
  }

  private toPublic(r: KeyRow, customerId: string): KeyPublic {
    return {
      id: r.id,
      customer_id: customerId,
      name: r.name,
      prefix: r.prefix,
      allowed_models: AllowedModels.parse(JSON.parse(r.allowed_models)),
      requests_per_minute: r.requests_per_minute,
      tokens_per_minute: r.tokens_per_minute,
      spend_limit_micros: r.spend_limit_micros,
      spent_micros: r.spent_micros,
      created_at: new Date(r.created_at).toISOString(),
      rotated_at: iso(r.rotated_at),
      revoked_at: iso(r.revoked_at),
    };
  }

  /** Creates the customer; rewards held for this account before it existed are credited in the same turn. */
  createCustomer(input: CustomerCreate): Balance | null {
    if (this.customerRow()) return null;
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.sql`INSERT INTO customer (id, customer_id, name, billing, balance_micros, created_at)
               VALUES (1, ${input.id}, ${input.name}, ${input.billing}, ${input.balance_micros + this.heldMicros()}, ${now})`;
      this.sql`UPDATE rewards SET credited_at = ${now} WHERE credited_at IS NULL`;
    });
    return this.balance();
  }

  /** Rewards earned by a miner paying out here before this customer existed, not yet credited. */
  private heldMicros(): number {
    return this.sql<{ n: number | null }>`SELECT SUM(amount_micros) AS n FROM rewards WHERE credited_at IS NULL`[0]?.n ?? 0;
  }

  balance(): Balance | null {
    const c = this.customerRow();
    return c ? { customer_id: c.customer_id, billing: c.billing, balance_micros: c.balance_micros, spent_micros: c.spent_micros } : null;
  }

  credit(amountMicros: number): Balance | null {
    if (!this.customerRow()) return null;
    this.sql`UPDATE customer SET balance_micros = balance_micros + ${amountMicros} WHERE id = 1`;
    return this.balance();
  }

  /**
   * Credits miner rewards (workers/rewards/miner-rewards.ts), each once by its
   * (session, task, miner): a resent reward is acknowledged, not paid again.
   * Where this customer does not exist yet, they are held here (the miner's
   * payout account names a customer still to be created) and credited by
   * `createCustomer`. Answers how many were taken now, and whether held.
   */
  creditRewards(rewards: readonly MinerReward[]): { credited: number; held: boolean } {
    const held = !this.customerRow();
    const now = Date.now();
    const credited = this.ctx.storage.transactionSync(() => {
      let n = 0;
      for (const r of rewards) {
        const inserted = this.sql`INSERT INTO rewards (reward_key, session_id, task_id, miner_id, amount_micros, role, slot, at, credited_at)
                 VALUES (${rewardKey(r)}, ${r.sessionId}, ${r.taskId}, ${r.minerId}, ${r.amountMicros}, ${r.role}, ${r.slot}, ${now}, ${held ? null : now})
                 ON CONFLICT (reward_key) DO NOTHING RETURNING id`;
        if (inserted.length === 0) continue;
        if (!held) this.sql`UPDATE customer SET balance_micros = balance_micros + ${r.amountMicros} WHERE id = 1`;
        n++;
      }
      return n;
    });
    return { credited, held };
  }

  /**
   * The account's entries, newest first: rewards credited and usage charged
   * (micros; a charge negative), paged by limit and offset; null when this
   * customer does not exist.
   */
  entries(q: { limit: number; offset: number }): { entries: LedgerEntry[]; total: number } | null {
    if (!this.customerRow()) return null;
    const entries = this.sql<LedgerEntry>`
      SELECT 'reward' AS type, id, amount_micros, at, session_id, task_id, miner_id, role, slot, NULL AS request_id, NULL AS model FROM rewards WHERE credited_at IS NOT NULL
      UNION ALL
      SELECT 'usage' AS type, id, -cost_micros AS amount_micros, at, session_id, task_id, NULL AS miner_id, NULL AS role, NULL AS slot, request_id, model FROM usage WHERE cost_micros > 0
      ORDER BY at DESC, type DESC, id DESC LIMIT ${q.limit} OFFSET ${q.offset}`;
    const total = this.sql<{ n: number }>`SELECT (SELECT COUNT(*) FROM rewards WHERE credited_at IS NOT NULL) + (SELECT COUNT(*) FROM usage WHERE cost_micros > 0) AS n`[0]?.n ?? 0;
    return { entries, total };
  }

  /** Issues a key; the plaintext is returned here and never again. */
  async issueKey(spec: KeyIssue, options: { secret?: string } = {}): Promise<{ key: string; record: KeyPublic } | null> {
    const c = this.customerRow();
    if (!c) return null;
    const key = options.secret ?? newCustomerKey(c.customer_id);
    const id = `key_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    this.sql`INSERT INTO keys (id, key_hash, name, prefix, allowed_models, requests_per_minute, tokens_per_minute, spend_limit_micros, created_at)
             VALUES (${id}, ${await hashKey(key)}, ${spec.name}, ${keyPrefix(key)}, ${JSON.stringify(spec.allowed_models)},
                     ${spec.requests_per_minute}, ${spec.tokens_per_minute}, ${spec.spend_limit_micros}, ${Date.now()})`;
    return { key, record: this.toPublic(this.keyRow(id), c.customer_id) };
  }

  listKeys(): KeyPublic[] | null {
    const c = this.customerRow();
    if (!c) return null;
    return this.sql<KeyRow>`SELECT * FROM keys ORDER BY created_at`.map((r) => this.toPublic(r, c.customer_id));
  }

  /** A new secret for the same key (limits and history kept); the old secret stops working at once. */
  async rotateKey(keyId: string): Promise<{ key: string; record: KeyPublic } | null> {
    const c = this.customerRow();
    const row = this.sql<KeyRow>`SELECT * FROM keys WHERE id = ${keyId} AND revoked_at IS NULL`[0];
    if (!c || !row) return null;
    const key = newCustomerKey(c.customer_id);
    this.sql`UPDATE keys SET key_hash = ${await hashKey(key)}, prefix = ${keyPrefix(key)}, rotated_at = ${Date.now()} WHERE id = ${keyId}`;
    return { key, record: this.toPublic(this.keyRow(keyId), c.customer_id) };
  }

  revokeKey(keyId: string): KeyPublic | null {
    const c = this.customerRow();
    if (!c || this.sql`SELECT 1 AS one FROM keys WHERE id = ${keyId}`.length === 0) return null;
    this.sql`UPDATE keys SET revoked_at = COALESCE(revoked_at, ${Date.now()}) WHERE id = ${keyId}`;
    return this.toPublic(this.keyRow(keyId), c.customer_id);
  }

  /** A key's state, for admission: 401 when unknown or revoked. */
  keyState(keyHash: string): KeyState | Failure {
    const c = this.customerRow();
    const row = c ? this.sql<KeyRow>`SELECT * FROM keys WHERE key_hash = ${keyHash}`[0] : undefined;
    if (!c || !row) return fail(401, "invalid_api_key", "invalid API key");
    if (row.revoked_at !== null) return fail(401, "invalid_api_key", "this API key has been revoked");
    return this.stateOf(row, c);
  }

  private stateOf(row: KeyRow, c: CustomerRow): KeyState {
    const version = this.sql<{ v: number | null }>`SELECT MAX(id) AS v FROM usage`[0]?.v ?? 0;
    return {
      version,
      key: {
        id: row.id,
        customerId: c.customer_id,
        allowedModels: AllowedModels.parse(JSON.parse(row.allowed_models)),
        requestsPerMinute: row.requests_per_minute,
        tokensPerMinute: row.tokens_per_minute,
        spendLimitMicros: row.spend_limit_micros,
        spentMicros: row.spent_micros,
      },
      customer: { billing: c.billing, balanceMicros: c.balance_micros },
    };
  }

  /**
   * Records a request's usage and bills it, once per request id. The work was
   * done, so it is billed even past a spend limit or balance (by at most what
   * the gateway's cache allows, see README "Usage and billing"); the key's
   * state comes back (null once revoked) so the isolate sees the charge.
   */
  recordUsage(u: UsageInput): { billed: boolean; record: UsageRecord; state: KeyState | null } {
    const billed = this.ctx.storage.transactionSync(() => this.bill(u, Date.now()));
    const record = toRecord(onlyRow(this.sql<UsageRow>`SELECT * FROM usage WHERE request_id = ${u.request_id}`, `usage ${u.request_id}`));
    return { billed, record, state: this.stateOfKey(u.key_id) };
  }

  /**
   * A gateway isolate's batch of usage records (workers/gateway/usage-batches.ts),
   * in one storage turn: each billed once per request id as `recordUsage`
   * bills it. Answers the request ids billed now (the others were billed
   * before) and the fresh state of each key in the batch (null once revoked).
   */
  recordUsages(us: readonly UsageInput[]): { billed: string[]; states: Record<string, KeyState | null> } {
    const now = Date.now();
    const billed = this.ctx.storage.transactionSync(() => us.filter((u) => this.bill(u, now)).map((u) => u.request_id));
    const states: Record<string, KeyState | null> = {};
    for (const keyId of new Set(us.map((u) => u.key_id))) states[keyId] = this.stateOfKey(keyId);
    return { billed, states };
  }

  /** Inserts the record and charges key and customer, unless its request id was billed before (then false). */
  private bill(u: UsageInput, now: number): boolean {
    const inserted = this
      .sql`INSERT INTO usage (request_id, key_id, model, router_pool, session_id, task_id, prompt_tokens, completion_tokens, latency_ms, status, error_code, cost_micros, at)
             VALUES (${u.request_id}, ${u.key_id}, ${u.model}, ${u.router_pool}, ${u.session_id}, ${u.task_id}, ${u.prompt_tokens}, ${u.completion_tokens},
                     ${u.latency_ms}, ${u.status}, ${u.error_code}, ${u.cost_micros}, ${now})
             ON CONFLICT (request_id) DO NOTHING RETURNING id`;
    if (inserted.length === 0) return false;
    if (u.cost_micros > 0) {
      this.sql`UPDATE keys SET spent_micros = spent_micros + ${u.cost_micros} WHERE id = ${u.key_id}`;
      this.sql`UPDATE customer SET spent_micros = spent_micros + ${u.cost_micros},
                 balance_micros = CASE WHEN billing = 'prepaid' THEN balance_micros - ${u.cost_micros} ELSE balance_micros END WHERE id = 1`;
    }
    return true;
  }

  private stateOfKey(keyId: string): KeyState | null {
    const c = this.customerRow();
    const row = this.sql<KeyRow>`SELECT * FROM keys WHERE id = ${keyId} AND revoked_at IS NULL`[0];
    return c && row ? this.stateOf(row, c) : null;
  }

  /** Usage records, newest first, optionally within [from, to), paged by `before` (an id). */
  usage(q: { from?: number; to?: number; limit: number; before?: number }): UsageRecord[] | null {
    if (!this.customerRow()) return null;
    const rows = this.sql<UsageRow>`
      SELECT * FROM usage WHERE at >= ${q.from ?? 0} AND at < ${q.to ?? Number.MAX_SAFE_INTEGER} AND id < ${q.before ?? Number.MAX_SAFE_INTEGER}
      ORDER BY id DESC LIMIT ${q.limit}`;
    return rows.map(toRecord);
  }
}

function toRecord(r: UsageRow): UsageRecord {
  return { ...r, at: new Date(r.at).toISOString() };
}
