import { env } from "cloudflare:workers";
import type { MinerReward } from "../domain/rewards/miner-rewards";
import { rewardKey } from "../domain/rewards/miner-rewards";
import type { TaskFunding } from "../domain/rewards/reward-sources";

/** A customer's (or a source's, `source:<name>`) Ledger, by RPC: what the Worker's code reaches through domain/objects/stubs.ts. */
export const ledgerOf = (customerId: string) => env.LEDGERS.get(env.LEDGERS.idFromName(`customer:${customerId}`));

/**
 * A reward the way the Session's outbox pays it (durable-objects/session/outbox-sender.ts):
 * issued by its source within `funding`, then credited to `account` with what was granted.
 * Answers the grant.
 */
export async function payReward(account: string, reward: Omit<MinerReward, "source">, funding: TaskFunding): Promise<number> {
  const key = rewardKey(reward);
  const answer = await ledgerOf(`source:${funding.source}`).issueRewards(funding.source, funding.kind, [
    { key, account, taskKey: `${reward.sessionId}:${reward.taskId}`, amountMicros: reward.amountMicros, funding },
  ]);
  if (!Array.isArray(answer)) throw new Error(`the source refused: ${answer.message}`);
  const [grant] = answer;
  if (grant && grant.amountMicros > 0) {
    const credited = await ledgerOf(account).creditRewards([{ ...reward, amountMicros: grant.amountMicros, source: funding.source }]);
    if ("ok" in credited) throw new Error(`the account refused: ${credited.message}`);
  }
  return grant?.amountMicros ?? 0;
}

/** An emission pool's funding for one task: `fund` micros at most, the pool's day budget `budget`. */
export const emissionFunding = (pool: string, fund: number, budget: number): TaskFunding => ({
  source: pool,
  kind: "emission",
  fundMicros: fund,
  paidMicros: 0,
  budgetMicros: budget,
});
