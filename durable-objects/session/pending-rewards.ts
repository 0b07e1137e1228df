import type { AccountReward, AccountSlash, RewardRole } from "../../domain/rewards/miner-rewards";
import type { SourceKind } from "../../domain/rewards/reward-sources";
import type { Sql } from "../sqlite-object";
import { FLUSH_INTERVAL_MS } from "./pending-reports";

/** Rewards the Ledger did not take are retried this long after the failed attempt. */
const RETRY_MS = 5000;

type Row = {
  task_id: number;
  miner_id: string;
  account: string;
  kind: "reward" | "slash";
  amount_micros: number;
  role: RewardRole;
  slot: number;
  share_bps: number;
  created_at: number;
  source: string;
  source_kind: SourceKind;
  fund_micros: number | null;
  paid_micros: number;
  budget_micros: number | null;
};

/** What one payout account is owed and owes: one Ledger's share of the outbox. */
export type AccountDue = { rewards: AccountReward[]; slashes: AccountSlash[] };

/** What a task's rewards pay its miners in all (micros): `tasks.reward_micros`. */
export const paidMicros = (due: { rewards: readonly AccountReward[] }): number => due.rewards.reduce((sum, r) => sum + r.amountMicros, 0);

/**
 * The session's outbox of miner rewards and slashes. Each is a row written
 * in the storage turn that committed its task (one per task and miner: a
 * miner either agreed or was outvoted; a second write is ignored), sent to
 * the payout account's Ledger after the answer (with the registry reports,
 * by the alarm) and deleted once the Ledger took it. The Ledger applies each
 * once by (session, task, miner), so a send whose answer was lost is simply
 * sent again.
 */
export class PendingRewards {
  /** When the last failed attempt asked to try again (memory only: a restart retries at once). */
  private retryAt = 0;

  constructor(
    private readonly sql: Sql,
    private readonly now: () => number,
  ) {}

  /** Queues a committed task's rewards and slashes (what it paid its miners in all, `paidMicros`, is on the task's row, written by its commit). */
  add(due: { rewards: readonly AccountReward[]; slashes: readonly AccountSlash[] }): void {
    const at = this.now();
    for (const r of due.rewards) {
      const f = r.funding;
      this.sql`INSERT INTO pending_rewards (task_id, miner_id, account, kind, amount_micros, role, slot, created_at, source, source_kind, fund_micros, paid_micros, budget_micros)
               VALUES (${r.taskId}, ${r.minerId}, ${r.account}, 'reward', ${r.amountMicros}, ${r.role}, ${r.slot}, ${at},
                       ${f.source}, ${f.kind}, ${f.fundMicros}, ${f.paidMicros}, ${f.budgetMicros}) ON CONFLICT DO NOTHING`;
    }
    for (const s of due.slashes) {
      this.sql`INSERT INTO pending_rewards (task_id, miner_id, account, kind, amount_micros, share_bps, created_at)
               VALUES (${s.taskId}, ${s.minerId}, ${s.account}, 'slash', 0, ${s.shareBps}, ${at}) ON CONFLICT DO NOTHING`;
    }
  }

  /** When the alarm should next send them (with the reports queued in the same turn); null when none wait. */
  dueAt(): number | null {
    const oldest = this.sql<{ at: number | null }>`SELECT MIN(created_at) AS at FROM pending_rewards`[0]?.at ?? null;
    return oldest === null ? null : Math.max(oldest + FLUSH_INTERVAL_MS, this.retryAt);
  }

  /** What waits, grouped by payout account: one Ledger's calls each. */
  byAccount(sessionId: number): Map<string, AccountDue> {
    const groups = new Map<string, AccountDue>();
    for (const r of this.sql<Row>`SELECT * FROM pending_rewards ORDER BY created_at, task_id, miner_id`) {
      const group = groups.get(r.account) ?? { rewards: [], slashes: [] };
      const common = { sessionId, taskId: r.task_id, minerId: r.miner_id, account: r.account };
      if (r.kind === "slash") group.slashes.push({ ...common, shareBps: r.share_bps });
      else {
        const funding = { source: r.source, kind: r.source_kind, fundMicros: r.fund_micros ?? r.amount_micros, paidMicros: r.paid_micros, budgetMicros: r.budget_micros };
        group.rewards.push({ ...common, amountMicros: r.amount_micros, role: r.role, slot: r.slot, source: r.source, funding });
      }
      groups.set(r.account, group);
    }
    return groups;
  }

  delivered(entries: readonly { taskId: number; minerId: string }[]): void {
    for (const r of entries) this.sql`DELETE FROM pending_rewards WHERE task_id = ${r.taskId} AND miner_id = ${r.minerId}`;
  }

  failed(): void {
    this.retryAt = this.now() + RETRY_MS;
  }
}
