import type { Hex } from "viem";
import type { ChainSigner } from "../../domain/chain/account-sender";
import { postedEpoch, postEpoch } from "../../domain/chain/reward-distributor";
import type { RewardTarget } from "../../domain/config/config";
import { describeError } from "../../domain/chain/rpc";
import { type RewardsEnv, settleEarnings } from "./reward-earnings";
import { type EpochRow, type RewardEpochs, sameEntries, settledEntries } from "./reward-epochs";

/** `sealed`: the epoch this call sealed; `posted`: the epoch whose root is now on chain; `unchanged`: no earnings moved since the last epoch. */
export type EpochClose = { sealed: number | null; posted: EpochRow | null; error: string | null; unchanged?: true };

/** When the next epoch is due: REWARD_EPOCH_S after the last one was sealed, or now. */
export const epochDueAt = (epochs: RewardEpochs, target: Pick<RewardTarget, "epochMs">) => {
  const last = epochs.last();
  return last ? last.sealed_at + target.epochMs : 0;
};

/**
 * Closes an epoch: posts the sealed, unsent one if there is one (as it was
 * sealed); else, when due (or `force`d), settles every claimable miner's
 * unsettled earnings out of its payout account (each Ledger debits, once by
 * this distributor and round, and answers what it moved), THEN seals the
 * last epoch's amounts plus what moved, as the number after both the
 * chain's and this store's last, and posts it. In that order a crash
 * creates no money: a Ledger that debited and a seal that never happened
 * are joined by the next try, which asks the same round (RewardEpochs.round)
 * and gets the same amounts; no leaf ever exceeds what left the ledger. A
 * round that moved nothing is not sealed.
 */
export async function closeEpoch(env: RewardsEnv, epochs: RewardEpochs, target: RewardTarget, key: ChainSigner, force: boolean, now: number): Promise<EpochClose> {
  let sealed: number | null = null;
  let row = epochs.unsent();
  if (!row) {
    if (!force && epochDueAt(epochs, target) > now) return { sealed: null, posted: null, error: null };
    try {
      const last = epochs.last();
      const previous = last ? epochs.entries(last.epoch) : [];
      const onChain = await postedEpoch(target);
      const round = await epochs.round(Math.max(onChain.epoch, last?.epoch ?? 0) + 1);
      const entries = settledEntries(previous, await settleEarnings(env, target.distributorAddress, round));
      if (entries.length === 0 || sameEntries(previous, entries)) return { sealed: null, posted: null, error: null, unchanged: true };
      row = epochs.seal(round, entries, now);
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
