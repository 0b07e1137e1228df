import type { Slot } from "../protocol/run-task";

/** One miner's reward for one committed task: the proof it names is (session, task). */
export type MinerReward = { sessionId: number; taskId: number; minerId: string; amountMicros: number };
/** A reward on its way to the payout account's Ledger. */
export type AccountReward = MinerReward & { account: string };

/**
 * The rewards a committed task earns: `amountMicros` to each miner whose
 * result agreed with the consensus and that has a payout account. A miner
 * that disagreed, failed or timed out earns nothing; so does one still
 * running when the task was decided (its late result is not part of the
 * proof).
 */
export function rewardsFor(task: { sessionId: number; taskId: number; slots: readonly Slot[] }, amountMicros: number): AccountReward[] {
  if (amountMicros <= 0) return [];
  const seen = new Set<string>();
  const rewards: AccountReward[] = [];
  for (const s of task.slots) {
    const account = s.miner.payoutAccount;
    if (s.state !== "precommitted" || !s.agreed || !account || seen.has(s.miner.id)) continue;
    seen.add(s.miner.id);
    rewards.push({ sessionId: task.sessionId, taskId: task.taskId, minerId: s.miner.id, account, amountMicros });
  }
  return rewards;
}

/** The key a reward is credited once by, across retries, restarts and replays. */
export const rewardKey = (r: MinerReward) => `${r.sessionId}:${r.taskId}:${r.minerId}`;
