import type { z } from "zod";
import type { Vars } from "../domain/config/config";
import type { LedgerObject } from "./ledger";
import { UsageRecordSchema } from "../domain/gateway/schemas";
import { ledgerStub } from "../domain/objects/stubs";
import { SqliteObject } from "./sqlite-object";

const MIGRATIONS = [
  `CREATE TABLE windows (
     name TEXT PRIMARY KEY,
     window_s INTEGER NOT NULL,
     started_at INTEGER NOT NULL,
     used REAL NOT NULL
   );`,
  `CREATE TABLE claims (
     token TEXT PRIMARY KEY,
     claimed_at INTEGER NOT NULL
   );`,
  `CREATE TABLE parked_usage (
     request_id TEXT PRIMARY KEY,
     customer_id TEXT NOT NULL,
     usage TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_at INTEGER NOT NULL
   );`,
];

/** A usage record the gateway could not bring to the Ledger after its answer, as it will be recorded. */
export const ParkedUsageSchema = UsageRecordSchema.omit({ id: true, at: true });
export type ParkedUsage = z.infer<typeof ParkedUsageSchema>;
/** The first retry of a parked record, then doubling up to an hour: it is retried until the Ledger takes it. */
const PARKED_RETRY_MS = 5_000;
const PARKED_RETRY_MAX_MS = 3_600_000;

export type QuotaRule = {
  /** Names the counter (e.g. "requests", "tokens"). */
  name: string;
  limit: number;
  windowS: number;
  /** What this request takes from it now (0 = only check that it is not exhausted). */
  cost: number;
};

export type BlockDecision = { ok: true; granted: number; windowEndsAt: number } | { ok: false; rule: string; limit: number; retryAfterS: number };
export type QuotaDecision = { ok: true; remaining: Record<string, number> } | { ok: false; rule: string; limit: number; retryAfterS: number };

/** What a quota object reaches: its customer's ledger, to record usage. */
type QuotaEnv = Vars & { LEDGERS: DurableObjectNamespace<LedgerObject> };

/**
 * Fixed-window counters for one client identity (an API key, an IP, a
 * payer): one object per identity, so no limit sits on a global path.
 * `consume` checks every rule before taking from any, so a refused request
 * costs nothing.
 */
export class QuotaObject extends SqliteObject<QuotaEnv> {
  constructor(ctx: DurableObjectState, env: QuotaEnv) {
    super(ctx, env, MIGRATIONS);
  }

  private window(name: string, windowS: number, now: number) {
    const row = this.sql<{ started_at: number; used: number; window_s: number }>`SELECT started_at, used, window_s FROM windows WHERE name = ${name}`[0];
    if (!row || row.window_s !== windowS || now >= row.started_at + windowS * 1000) return { startedAt: now, used: 0 };
    return { startedAt: row.started_at, used: row.used };
  }

  consume(rules: readonly QuotaRule[], now = Date.now()): QuotaDecision {
    const current = rules.map((r) => ({ rule: r, ...this.window(r.name, r.windowS, now) }));
    for (const c of current) {
      const over = c.rule.cost > 0 ? c.used + c.rule.cost > c.rule.limit : c.used >= c.rule.limit;
      if (over) {
        return { ok: false, rule: c.rule.name, limit: c.rule.limit, retryAfterS: Math.max(1, Math.ceil((c.startedAt + c.rule.windowS * 1000 - now) / 1000)) };
      }
    }
    const remaining: Record<string, number> = {};
    for (const c of current) {
      const used = c.used + c.rule.cost;
      this.sql`INSERT INTO windows (name, window_s, started_at, used) VALUES (${c.rule.name}, ${c.rule.windowS}, ${c.startedAt}, ${used})
               ON CONFLICT (name) DO UPDATE SET window_s = excluded.window_s, started_at = excluded.started_at, used = excluded.used`;
      remaining[c.rule.name] = Math.max(0, c.rule.limit - used);
    }
    return { ok: true, remaining };
  }

  /**
   * Takes up to `block` units of `take` at once (a gateway isolate's
   * reservation, spent locally), provided every rule of `check` still has
   * room: refused as `consume` refuses, granted as many as remain, and the
   * time the taken window ends (the isolate drops what it holds then).
   */
  reserveBlock(take: { name: string; limit: number; windowS: number }, check: readonly QuotaRule[], block: number, now = Date.now()): BlockDecision {
    const decision = this.consume([{ ...take, cost: 1 }, ...check], now);
    if (!decision.ok) return decision;
    const w = this.window(take.name, take.windowS, now);
    const granted = 1 + Math.max(0, Math.min(block - 1, take.limit - w.used));
    if (granted > 1) this.charge(take.name, take.windowS, granted - 1, now);
    return { ok: true, granted, windowEndsAt: w.startedAt + take.windowS * 1000 };
  }

  /**
   * Claims a one-time token (a payment authorization's nonce) for this
   * identity: true the first time, false ever after.
   */
  claimOnce(token: string): boolean {
    if (this.sql`SELECT 1 AS one FROM claims WHERE token = ${token}`.length > 0) return false;
    this.sql`INSERT INTO claims (token, claimed_at) VALUES (${token}, ${Date.now()})`;
    return true;
  }

  claimed(token: string): boolean {
    return this.sql`SELECT 1 AS one FROM claims WHERE token = ${token}`.length > 0;
  }

  /** Gives a claimed token back (the payment it stood for was not used after all). */
  release(token: string): void {
    this.sql`DELETE FROM claims WHERE token = ${token}`;
  }

  /**
   * Keeps a usage record the Ledger did not take after the answer (the
   * gateway's retries failed), to be brought there by this object's alarm.
   * Once per request id; the Ledger records it once per request id too.
   */
  async parkUsage(customerId: string, usage: ParkedUsage, now = Date.now()): Promise<void> {
    this.sql`INSERT INTO parked_usage (request_id, customer_id, usage, next_at) VALUES (${usage.request_id}, ${customerId}, ${JSON.stringify(usage)}, ${now})
             ON CONFLICT (request_id) DO NOTHING`;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(now + PARKED_RETRY_MS);
  }

  /** How many usage records wait here for the Ledger. */
  parkedCount(): number {
    return this.sql<{ n: number }>`SELECT COUNT(*) AS n FROM parked_usage`[0]?.n ?? 0;
  }

  /** Brings due parked usage to the Ledger; what fails waits longer, and the alarm comes back for it. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const due = this.sql<{ request_id: string; customer_id: string; usage: string; attempts: number }>`
      SELECT request_id, customer_id, usage, attempts FROM parked_usage WHERE next_at <= ${now}`;
    for (const row of due) {
      const usage = ParkedUsageSchema.safeParse(JSON.parse(row.usage));
      if (!usage.success) {
        // Written by parkUsage from a checked record: unreadable means corrupt, and retrying cannot help.
        console.error("dropping unreadable parked usage", row.request_id, usage.error);
        this.sql`DELETE FROM parked_usage WHERE request_id = ${row.request_id}`;
        continue;
      }
      try {
        await ledgerStub(this.env, row.customer_id).recordUsage(usage.data);
        this.sql`DELETE FROM parked_usage WHERE request_id = ${row.request_id}`;
      } catch (err) {
        console.error("parked usage still not recorded", row.request_id, err);
        const wait = Math.min(PARKED_RETRY_MAX_MS, PARKED_RETRY_MS * 2 ** (row.attempts + 1));
        this.sql`UPDATE parked_usage SET attempts = attempts + 1, next_at = ${now + wait} WHERE request_id = ${row.request_id}`;
      }
    }
    const next = this.sql<{ at: number | null }>`SELECT MIN(next_at) AS at FROM parked_usage`[0]?.at ?? null;
    if (next !== null) await this.ctx.storage.setAlarm(Math.max(next, now + 1));
  }

  /** Adds usage known only afterwards (tokens) to a window, without a check. */
  charge(name: string, windowS: number, amount: number, now = Date.now()): void {
    const w = this.window(name, windowS, now);
    this.sql`INSERT INTO windows (name, window_s, started_at, used) VALUES (${name}, ${windowS}, ${w.startedAt}, ${w.used + amount})
             ON CONFLICT (name) DO UPDATE SET window_s = excluded.window_s, started_at = excluded.started_at, used = excluded.used`;
  }
}
