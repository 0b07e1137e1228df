import type { Slot } from "../protocol/run-task.ts";
import type { RewardRole } from "../schemas/wallet.ts";
import { type FundingPolicy, type TaskFunding, taskFunding } from "./reward-sources.ts";
import type { TaskBilling, TokenUsage } from "./task-billing.ts";

export type { RewardRole };

/**
 * One miner's reward for one committed task: the proof it names is (session, task); `slot` is the miner's place in the task;
 * `source` the source account that issued it (domain/rewards/reward-sources.ts).
 */
export type MinerReward = { sessionId: number; taskId: number; minerId: string; amountMicros: number; role: RewardRole; slot: number; source: string };
/** A reward on its way, through its source, to the payout account's Ledger: with what funds its task. */
export type AccountReward = MinerReward & { account: string; funding: TaskFunding };
/** A share (basis points) of a payout account's stake, taken for a miner outvoted on one task. */
export type AccountSlash = { sessionId: number; taskId: number; minerId: string; account: string; shareBps: number };

export type RewardPolicy = FundingPolicy & {
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
 * What a committed task pays and takes. The pool (its fund, `taskFunding`) is split
 * evenly among the miners whose result agreed with the consensus; the micros
 * left over go one each to the first of them, the worker first, then by
 * slot, so the split is the same on every replay. A miner without a payout
 * account forfeits its part (the others do not get more), and so does one
 * whose reported usage the audit found false (`Slot.usageMisreport`): its
 * answer counted, its lie is not paid. A miner that disagreed, failed or
 * timed out earns nothing, nor does one still running when the task was
 * decided (its late result is not part of the proof).
 *
 * With slashing on, a miner whose answered result disagreed is slashed when
 * the agreeing miners are a clear majority of those that answered.
 */
export function settleTask(task: CommittedTask, policy: RewardPolicy): { rewards: AccountReward[]; slashes: AccountSlash[] } {
  const answered = distinctMiners(task.slots, (s) => s.state === "precommitted");
  const agreeing = answered.filter((s) => s.agreed).sort((a, b) => Number(b.slot === task.winnerSlot) - Number(a.slot === task.winnerSlot) || a.slot - b.slot);
  const funding = taskFunding(task, policy);
  const pool = agreeing.length > 0 ? funding.fundMicros : 0;
  const base = Math.floor(pool / Math.max(1, agreeing.length));
  const rewards: AccountReward[] = [];
  agreeing.forEach((s, i) => {
    const amountMicros = base + (i < pool - base * agreeing.length ? 1 : 0);
    const account = s.miner.payoutAccount;
    if (!account || amountMicros <= 0 || s.usageMisreport) return;
    const role: RewardRole = s.slot === task.winnerSlot ? "worker" : "validator";
    rewards.push({ sessionId: task.sessionId, taskId: task.taskId, minerId: s.miner.id, account, amountMicros, role, slot: s.slot, source: funding.source, funding });
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
