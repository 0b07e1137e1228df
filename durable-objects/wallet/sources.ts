import { DAY_MS, periodOf, type SourceKind, type TaskFunding } from "../../domain/rewards/reward-sources";
import { isMicros } from "../../domain/wallet/safe-micros";
import type { Sql } from "../sqlite-object";

/**
 * The source tables (a Ledger migration; docs/storage-schema.md). Only a
 * source account's Ledger (`source:<name>`, no customer) writes them.
 */
export const SOURCES_MIGRATION = `
  CREATE TABLE source (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE source_issues (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    issue_key TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    task_key TEXT,
    requested_micros INTEGER NOT NULL,
    amount_micros INTEGER NOT NULL,
    period INTEGER,
    at INTEGER NOT NULL
  );
  CREATE INDEX source_issues_account ON source_issues (account);
  CREATE TABLE source_tasks (
    task_key TEXT PRIMARY KEY,
    paid_micros INTEGER NOT NULL,
    fund_micros INTEGER NOT NULL,
    issued_micros INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE source_periods (
    period INTEGER PRIMARY KEY,
    budget_micros INTEGER NOT NULL,
    issued_micros INTEGER NOT NULL DEFAULT 0
  );
  ALTER TABLE rewards ADD COLUMN source TEXT;`;

/** One reward a source is asked to issue: once by `key`, to `account`, within its task's funding. */
export type RewardIssue = { key: string; account: string; taskKey: string; amountMicros: number; funding: TaskFunding };
/** What a source issued for a key (0: its task's fund or the pool's budget was spent). */
export type Grant = { key: string; amountMicros: number };

/**
 * A source's own figures for the conservation check (integer micros). Its
 * totals are BigInt: a source issues to every account, so its sums may pass
 * 2^53 − 1 even though no account's balance does.
 */
export type SourceFigures = {
  source: string;
  kind: SourceKind;
  /** What backs the issues: x402, charges: what the rewarded tasks brought in; payment and emission: their issues (a payment backs itself; an emission is bounded by each day's budget, checked in `overdrawn`). */
  funded_micros: bigint;
  issued_micros: bigint;
  /** What each account was issued. */
  by_account: Record<string, bigint>;
  /** Tasks or days on which more was issued than funded (should never happen: refused when issuing). */
  overdrawn: string[];
  /** Emission only: today's budget and what was issued today (UTC). */
  today: { period: number; budget_micros: number; issued_micros: number } | null;
};

/**
 * A source account's issues. Each is recorded once by its key with what was
 * granted, so asking again (an outbox's resend) answers the same grant and
 * issues nothing more. Rewards are granted up to what is left of their
 * task's fund and, for an emission pool, of the day's budget: all in the
 * caller's storage transaction, so concurrent sessions never pass either.
 */
export class Sources {
  constructor(private readonly sql: Sql) {}

  /** This Ledger's source, named on first use; a Ledger is one source only (the caller checked `current` first). */
  declare(name: string, kind: SourceKind, now: number): void {
    this.sql`INSERT INTO source (id, name, kind, created_at) VALUES (1, ${name}, ${kind}, ${now}) ON CONFLICT (id) DO NOTHING`;
  }

  current(): { name: string; kind: SourceKind } | undefined {
    return this.sql<{ name: string; kind: SourceKind }>`SELECT name, kind FROM source WHERE id = 1`[0];
  }

  private grantOf(key: string): number | undefined {
    return this.sql<{ amount_micros: number }>`SELECT amount_micros FROM source_issues WHERE issue_key = ${key}`[0]?.amount_micros;
  }

  /** A payment issued whole (an admin credit, an opening balance), once by key; false when seen before. */
  issuePayment(key: string, account: string, amountMicros: number, now: number): boolean {
    if (this.grantOf(key) !== undefined) return false;
    this.sql`INSERT INTO source_issues (issue_key, account, requested_micros, amount_micros, at) VALUES (${key}, ${account}, ${amountMicros}, ${amountMicros}, ${now})`;
    return true;
  }

  /** Grants each reward what its task's fund (and the pool's day) has left; a key seen before gets its first grant again. */
  issueRewards(issues: readonly RewardIssue[], defaultBudget: number, now: number): Grant[] {
    const period = periodOf(now);
    return issues.map(({ key, account, taskKey, amountMicros, funding }) => {
      const before = this.grantOf(key);
      if (before !== undefined) return { key, amountMicros: before };
      // An amount outside the exact range is granted nothing (the Session computes none: taskFunding clamps).
      if (!isMicros(amountMicros) || !isMicros(funding.fundMicros) || !isMicros(funding.paidMicros) || (funding.budgetMicros !== null && !isMicros(funding.budgetMicros))) {
        return { key, amountMicros: 0 };
      }
      // The task's fund as first declared: a later reward of the same task cannot raise it.
      this.sql`INSERT INTO source_tasks (task_key, paid_micros, fund_micros) VALUES (${taskKey}, ${funding.paidMicros}, ${funding.fundMicros}) ON CONFLICT DO NOTHING`;
      const task = this.sql<{ fund_micros: number; issued_micros: number }>`SELECT fund_micros, issued_micros FROM source_tasks WHERE task_key = ${taskKey}`[0];
      let left = Math.max(0, (task?.fund_micros ?? 0) - (task?.issued_micros ?? 0));
      const emission = funding.kind === "emission";
      if (emission) {
        const budget = funding.budgetMicros ?? defaultBudget;
        this.sql`INSERT INTO source_periods (period, budget_micros) VALUES (${period}, ${budget})
                 ON CONFLICT (period) DO UPDATE SET budget_micros = MAX(budget_micros, excluded.budget_micros)`;
        const issued = this.sql<{ n: number }>`SELECT issued_micros AS n FROM source_periods WHERE period = ${period}`[0]?.n ?? 0;
        left = Math.min(left, Math.max(0, budget - issued));
      }
      const granted = Math.min(amountMicros, left);
      this.sql`INSERT INTO source_issues (issue_key, account, task_key, requested_micros, amount_micros, period, at)
               VALUES (${key}, ${account}, ${taskKey}, ${amountMicros}, ${granted}, ${emission ? period : null}, ${now})`;
      this.sql`UPDATE source_tasks SET issued_micros = issued_micros + ${granted} WHERE task_key = ${taskKey}`;
      if (emission) this.sql`UPDATE source_periods SET issued_micros = issued_micros + ${granted} WHERE period = ${period}`;
      return { key, amountMicros: granted };
    });
  }

  figures(now: number): SourceFigures | null {
    const s = this.current();
    if (!s) return null;
    // Summed by SQLite in 64-bit integers and read as text, never as a float.
    const sum = (row: { n: string | null } | undefined) => BigInt(row?.n ?? 0);
    const issued = sum(this.sql<{ n: string | null }>`SELECT CAST(SUM(amount_micros) AS TEXT) AS n FROM source_issues`[0]);
    // A payment backs itself; an emission is backed by its days' budgets, each checked in `overdrawn` (their sum means nothing).
    const funded = s.kind === "payment" || s.kind === "emission" ? issued : sum(this.sql<{ n: string | null }>`SELECT CAST(SUM(paid_micros) AS TEXT) AS n FROM source_tasks`[0]);
    const by_account: Record<string, bigint> = {};
    for (const r of this.sql<{ account: string; n: string }>`SELECT account, CAST(SUM(amount_micros) AS TEXT) AS n FROM source_issues GROUP BY account`) {
      by_account[r.account] = BigInt(r.n);
    }
    const overdrawn = [
      ...this.sql<{ k: string }>`SELECT task_key AS k FROM source_tasks WHERE issued_micros > fund_micros`.map((r) => `task ${r.k}`),
      ...this.sql<{ k: number }>`SELECT period AS k FROM source_periods WHERE issued_micros > budget_micros`.map((r) => `day ${new Date(r.k * DAY_MS).toISOString().slice(0, 10)}`),
    ];
    const period = periodOf(now);
    const day = this.sql<{ budget_micros: number; issued_micros: number }>`SELECT budget_micros, issued_micros FROM source_periods WHERE period = ${period}`[0];
    const today = s.kind === "emission" ? { period, budget_micros: day?.budget_micros ?? 0, issued_micros: day?.issued_micros ?? 0 } : null;
    return { source: s.name, kind: s.kind, funded_micros: funded, issued_micros: issued, by_account, overdrawn, today };
  }
}
