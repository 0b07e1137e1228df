import type { SessionPeers } from "./session-peers";
import { ApiError } from "../../domain/errors";
import type { MinerPool } from "../../domain/miners/miner-pool";
import { type AccountReward, type MinerReward, rewardKey } from "../../domain/rewards/miner-rewards";
import { sourceAccount } from "../../domain/rewards/reward-sources";
import { ledgerStub, registryStub } from "../../domain/objects/stubs";
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
    private readonly env: SessionPeers,
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
   * One payout account's rewards and slashes at a time. Each reward is
   * issued by its source first (which grants at most what its task's fund
   * and the pool's budget leave), then credited to the payout account; a
   * reward to an account with no customer yet is held by its Ledger until
   * the customer is created. Both hops apply a reward once by its key, so a
   * resend after a lost answer gets the same grant and credits nothing twice.
   */
  private async sendRewards(owner: OutboxOwner): Promise<void> {
    for (const [account, due] of this.rewards.byAccount(owner.sessionId)) {
      try {
        if (due.rewards.length > 0) {
          const granted = await issuedBySources(this.env, due.rewards);
          if (granted.length > 0) {
            const taken = await ledgerStub(this.env, account).creditRewards(granted);
            // Refused (an amount past what the account can hold exactly): kept, and reported, for the operator.
            if ("ok" in taken) throw ApiError.from(taken);
            if (taken.held) console.log(JSON.stringify({ event: "rewards_held", reason: "payout account has no customer yet", account, rewards: granted.length }));
          }
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

/**
 * Asks each source of these rewards (one call per source) what it issues
 * for them; answers the rewards as granted, leaving out those granted
 * nothing (their task's fund or the pool's day's budget is spent).
 */
async function issuedBySources(env: SessionPeers, rewards: readonly AccountReward[]): Promise<MinerReward[]> {
  const bySource = new Map<string, AccountReward[]>();
  for (const r of rewards) bySource.set(r.funding.source, [...(bySource.get(r.funding.source) ?? []), r]);
  const granted: MinerReward[] = [];
  for (const [source, list] of bySource) {
    const kind = list[0]?.funding.kind ?? "emission";
    const issues = list.map((r) => ({ key: rewardKey(r), account: r.account, taskKey: `${r.sessionId}:${r.taskId}`, amountMicros: r.amountMicros, funding: r.funding }));
    const answer = await ledgerStub(env, sourceAccount(source)).issueRewards(source, kind, issues);
    if ("ok" in answer) throw ApiError.from(answer);
    const grants = new Map(answer.map((g) => [g.key, g.amountMicros]));
    for (const r of list) {
      const amountMicros = grants.get(rewardKey(r)) ?? 0;
      if (amountMicros > 0) granted.push({ sessionId: r.sessionId, taskId: r.taskId, minerId: r.minerId, amountMicros, role: r.role, slot: r.slot, source });
      else console.log(JSON.stringify({ event: "reward_unfunded", source, reward: rewardKey(r), asked_micros: r.amountMicros }));
    }
  }
  return granted;
}
