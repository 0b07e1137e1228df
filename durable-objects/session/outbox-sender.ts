import type { Env } from "../../workers/env";
import type { MinerPool } from "../../workers/miners/miner-pool";
import { rewardKey } from "../../workers/rewards/miner-rewards";
import { ledgerStub, registryStub } from "../../workers/stubs";
import type { PendingReports } from "./pending-reports";
import type { PendingRewards } from "./pending-rewards";

/** Who the outbox is sent for: the session's id and model, and this object's name for the registry's load table. */
export type OutboxOwner = { sessionId: number; model: string; objectName: string };

/**
 * Sends the session's two outboxes after the answers: reputation reports to
 * the registry (whose answer is the session's next miner snapshot) and
 * rewards and slashes to the payout accounts' Ledgers. Nothing here ever
 * fails a task: what a receiver did not acknowledge stays queued for the
 * session's alarm, and each receiver applies an item once by its key, so a
 * resend whose first answer was lost changes nothing.
 */
export class OutboxSender {
  /** The flush under way, so that the count trigger and the alarm never send at once. */
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly env: Env,
    private readonly reports: PendingReports,
    private readonly rewards: PendingRewards,
    private readonly pool: MinerPool,
  ) {}

  /** Sends everything queued; joins a flush already under way. */
  flush(owner: OutboxOwner | undefined): Promise<void> {
    if (!owner) return Promise.resolve();
    this.flushing ??= Promise.all([this.sendReports(owner), this.sendRewards(owner)])
      .then(() => undefined)
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  /** Batch by batch; the first failure stops the round (the registry is likely down) and leaves the rest for the alarm. */
  private async sendReports(owner: OutboxOwner): Promise<void> {
    for (let batch = this.reports.next(); batch; batch = this.reports.next()) {
      try {
        const answer = await registryStub(this.env).reportBatch({ ...batch, session: owner.objectName, model: owner.model, load: this.pool.load() });
        this.reports.acknowledged(batch.batchId);
        this.pool.accept(owner.model, answer.candidates);
      } catch (err) {
        console.error("sending reputation reports failed; kept for retry", err);
        this.reports.failed();
        return;
      }
    }
  }

  /**
   * One payout account's rewards and slashes at a time. A reward to an
   * account with no customer yet is held by its Ledger until the customer
   * is created.
   */
  private async sendRewards(owner: OutboxOwner): Promise<void> {
    for (const [account, due] of this.rewards.byAccount(owner.sessionId)) {
      try {
        if (due.rewards.length > 0) {
          const taken = await ledgerStub(this.env, account).creditRewards(due.rewards);
          if (taken.held) console.log(JSON.stringify({ event: "rewards_held", reason: "payout account has no customer yet", account, rewards: due.rewards.length }));
          this.rewards.delivered(due.rewards);
        }
        for (const slash of due.slashes) {
          await ledgerStub(this.env, account).slash(rewardKey(slash), slash.shareBps);
          this.rewards.delivered([slash]);
        }
        // A slash that took the whole stake ends its multiplier: selection hears of it now, not at the next cron.
        if (due.slashes.length > 0) await registryStub(this.env).refreshStakes([account]);
      } catch (err) {
        console.error("sending miner rewards failed; kept for retry", err);
        this.rewards.failed();
      }
    }
  }
}
