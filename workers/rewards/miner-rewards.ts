import type { Slot } from "../protocol/run-task";
import type { RewardRole } from "../schemas/wallet";
import { billedMicros, type TaskBilling, type TokenUsage } from "./task-billing";

export type { RewardRole };

/** One miner's reward for one committed task: the proof it names is (session, task); `slot` is the miner's place in the task. */
export type MinerReward = { sessionId: number; taskId: number; minerId: string; amountMicros: number; role: RewardRole; slot: number };
/** A reward on its way to the payout account's Ledger. */
export type AccountReward = MinerReward & { account: string };
/** A share (basis points) of a payout account's stake, taken for a miner outvoted on one task. */
export type AccountSlash = { sessionId: number; taskId: number; minerId: string; account: string; shareBps: number };

export type RewardPolicy = {
  /** Basis points of a billed task's amount shared by its agreeing miners. */
  shareBps: number;
  /** Micros per completion token of the chosen output, where the task's billing is not known. */
  microsPerToken: number;
  /** Basis points of its stake an outvoted miner loses; 0: no slashing. */
  slashShareBps: number;
  /** The agreeing miners' least share of the answering ones (basis points) for an outvote to be slashed. */
  slashMajorityBps: number;
};

type CommittedTask = {
  sessionId: number;
  taskId: number;
  /** The slot whose output was chosen. */
  winnerSlot: number;
  slots: readonly Slot[];
  /** The completion's usage: what the gateway bills. */
  usage: TokenUsage;
  billing?: TaskBilling | undefined;
};

/**
 * The amount a committed task's agreeing miners share: the configured share
 * of what it was billed, or the per-token reward on the chosen output's
 * completion tokens where its billing is not known here (integer micros,
 * rounded down).
 */
export function rewardPool(task: Pick<CommittedTask, "usage" | "billing">, policy: RewardPolicy): number {
  if (task.billing) return Math.floor((billedMicros(task.billing, task.usage) * policy.shareBps) / 10_000);
  return task.usage.completion_tokens * policy.microsPerToken;
}

/** One slot per miner (a miner replaced and picked again counts once), in slot order. */
function distinctMiners(slots: readonly Slot[], keep: (s: Slot) => boolean): Slot[] {
  const seen = new Set<string>();
  return [...slots]
    .sort((a, b) => a.slot - b.slot)
    .filter((s) => {
      if (!keep(s) || seen.has(s.miner.id)) return false;
      seen.add(s.miner.id);
      return true;
    });
}

/**
 * What a committed task pays and takes. The pool (`rewardPool`) is split
 * evenly among the miners whose result agreed with the consensus; the micros
 * left over go one each to the first of them, the worker first, then by
 * slot, so the split is the same on every replay. A miner without a payout
 * account forfeits its part (the others do not get more). A miner that
 * disagreed, failed or timed out earns nothing, nor does one still running
 * when the task was decided (its late result is not part of the proof).
 *
 * With slashing on, a miner whose answered result disagreed is slashed when
 * the agreeing miners are a clear majority of those that answered.
 */
export function settleTask(task: CommittedTask, policy: RewardPolicy): { rewards: AccountReward[]; slashes: AccountSlash[] } {
  const answered = distinctMiners(task.slots, (s) => s.state === "precommitted");
  const agreeing = answered.filter((s) => s.agreed).sort((a, b) => Number(b.slot === task.winnerSlot) - Number(a.slot === task.winnerSlot) || a.slot - b.slot);
  const pool = agreeing.length > 0 ? rewardPool(task, policy) : 0;
  const base = Math.floor(pool / Math.max(1, agreeing.length));
  const rewards: AccountReward[] = [];
  agreeing.forEach((s, i) => {
    const amountMicros = base + (i < pool - base * agreeing.length ? 1 : 0);
    const account = s.miner.payoutAccount;
    if (!account || amountMicros <= 0) return;
    const role: RewardRole = s.slot === task.winnerSlot ? "worker" : "validator";
    rewards.push({ sessionId: task.sessionId, taskId: task.taskId, minerId: s.miner.id, account, amountMicros, role, slot: s.slot });
  });

  const clearMajority = agreeing.length * 10_000 >= policy.slashMajorityBps * answered.length;
  const slashes: AccountSlash[] =
    policy.slashShareBps > 0 && clearMajority
      ? answered.flatMap((s) =>
          !s.agreed && s.miner.payoutAccount
            ? [{ sessionId: task.sessionId, taskId: task.taskId, minerId: s.miner.id, account: s.miner.payoutAccount, shareBps: policy.slashShareBps }]
            : [],
        )
      : [];
  return { rewards, slashes };
}

/** The key a reward (or a slash) is applied once by, across retries, restarts and replays: one task, one miner. */
export const rewardKey = (r: { sessionId: number; taskId: number; minerId: string }) => `${r.sessionId}:${r.taskId}:${r.minerId}`;
