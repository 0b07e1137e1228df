import type { AccountReward } from "../../workers/rewards/miner-rewards";
import type { Sql } from "../sqlite-object";
import { FLUSH_INTERVAL_MS } from "./pending-reports";

/** Rewards the Ledger did not take are retried this long after the failed attempt. */
const RETRY_MS = 5000;

type Row = { task_id: number; miner_id: string; account: string; amount_micros: number; created_at: number };

/**
 * The session's outbox of miner rewards. A reward is a row written in the
 * storage turn that committed its task (one per task and miner: a second
 * write is ignored), sent to the payout account's Ledger after the answer
 * (with the registry reports, by the alarm) and deleted once the Ledger
 * took it. The Ledger credits a reward once by (session, task, miner), so
 * a send whose answer was lost is simply sent again.
 */
export class PendingRewards {
  /** When the last failed attempt asked to try again (memory only: a restart retries at once). */
  private retryAt = 0;

  constructor(
    private readonly sql: Sql,
    private readonly now: () => number,
  ) {}

  add(rewards: readonly AccountReward[]): void {
    const at = this.now();
    for (const r of rewards) {
      this.sql`INSERT INTO pending_rewards (task_id, miner_id, account, amount_micros, created_at)
               VALUES (${r.taskId}, ${r.minerId}, ${r.account}, ${r.amountMicros}, ${at}) ON CONFLICT DO NOTHING`;
    }
  }

  /** When the alarm should next send rewards (with the reports queued in the same turn); null when none wait. */
  dueAt(): number | null {
    const oldest = this.sql<{ at: number | null }>`SELECT MIN(created_at) AS at FROM pending_rewards`[0]?.at ?? null;
    return oldest === null ? null : Math.max(oldest + FLUSH_INTERVAL_MS, this.retryAt);
  }

  /** Waiting rewards grouped by payout account: one Ledger call each. */
  byAccount(sessionId: number): Map<string, AccountReward[]> {
    const groups = new Map<string, AccountReward[]>();
    for (const r of this.sql<Row>`SELECT * FROM pending_rewards ORDER BY created_at, task_id, miner_id`) {
      const group = groups.get(r.account) ?? [];
      group.push({ sessionId, taskId: r.task_id, minerId: r.miner_id, account: r.account, amountMicros: r.amount_micros });
      groups.set(r.account, group);
    }
    return groups;
  }

  delivered(rewards: readonly AccountReward[]): void {
    for (const r of rewards) this.sql`DELETE FROM pending_rewards WHERE task_id = ${r.taskId} AND miner_id = ${r.minerId}`;
  }

  failed(): void {
    this.retryAt = this.now() + RETRY_MS;
  }
}
