import type { Hex } from "viem";
import type { ChainSigner } from "../../domain/chain/account-sender";
import { postedEpoch, postEpoch } from "../../domain/chain/reward-distributor";
import type { RewardTarget } from "../../domain/config/config";
import { describeError } from "../../domain/chain/rpc";
import { claimableEarnings, type RewardsEnv } from "./reward-earnings";
import { type EpochRow, nextEntries, type RewardEpochs, sameEntries } from "./reward-epochs";

/** `sealed`: the epoch this call sealed; `posted`: the epoch whose root is now on chain; `unchanged`: no earnings moved since the last epoch. */
export type EpochClose = { sealed: number | null; posted: EpochRow | null; error: string | null; unchanged?: true };

/** When the next epoch is due: REWARD_EPOCH_S after the last one was sealed, or now. */
export const epochDueAt = (epochs: RewardEpochs, target: Pick<RewardTarget, "epochMs">) => {
  const last = epochs.last();
  return last ? last.sealed_at + target.epochMs : 0;
};

/**
 * Closes an epoch: posts the sealed, unsent one if there is one (as it was
 * sealed); else, when due (or `force`d), reads every claimable miner's
 * earnings from the Ledger, seals them as the number after both the chain's
 * and this store's last, and posts it. An epoch that would post what the
 * last one did is not sealed.
 */
export async function closeEpoch(env: RewardsEnv, epochs: RewardEpochs, target: RewardTarget, key: ChainSigner, force: boolean, now: number): Promise<EpochClose> {
  let sealed: number | null = null;
  let row = epochs.unsent();
  if (!row) {
    if (!force && epochDueAt(epochs, target) > now) return { sealed: null, posted: null, error: null };
    try {
      const last = epochs.last();
      const previous = last ? epochs.entries(last.epoch) : [];
      const entries = nextEntries(previous, await claimableEarnings(env));
      if (entries.length === 0 || sameEntries(previous, entries)) return { sealed: null, posted: null, error: null, unchanged: true };
      const onChain = await postedEpoch(target);
      row = epochs.seal(Math.max(onChain.epoch, last?.epoch ?? 0) + 1, entries, now);
    } catch (err) {
      return { sealed: null, posted: null, error: describeError(err) };
    }
    if (!row) return { sealed: null, posted: null, error: null, unchanged: true };
    sealed = row.epoch;
  }
  const root = row.root as Hex;
  let number = row.epoch;
  let posted = await postEpoch(target, key, { epoch: number, root, totalMicros: row.total_micros });
  if (!posted.ok && posted.renumber !== undefined) {
    epochs.renumber(number, posted.renumber);
    number = posted.renumber;
    if (sealed !== null) sealed = number;
    posted = await postEpoch(target, key, { epoch: number, root, totalMicros: row.total_micros });
  }
  if (posted.ok) epochs.sent(number, posted.transaction, posted.blockNumber);
  else epochs.failed(number, posted.error);
  return { sealed, posted: posted.ok ? (epochs.epochs().find((e) => e.epoch === number) ?? null) : null, error: posted.ok ? null : posted.error };
}
