import type { Address } from "viem";
import type { Vars } from "../../domain/config/config";
import { ledgerStub, registryStub } from "../../domain/objects/stubs";
import { sixAtATime } from "../../domain/net/six-at-a-time";
import type { LedgerObject } from "../ledger";
import type { MinerRegistry } from "../miner-registry";
import type { EpochEntry } from "./reward-epochs";

/** What reading miners' earnings reaches: the registry (who holds which address) and the payout accounts' Ledgers. */
export type RewardsEnv = Vars & { MINERS: DurableObjectNamespace<MinerRegistry>; LEDGERS: DurableObjectNamespace<LedgerObject> };

/**
 * Every claimable miner's cumulative earnings, from the Ledger: the rewards
 * credited to its payout account under its miner id (held rewards, for an
 * account not created yet, are not earned until credited). Only miners with
 * a registered, hence proven, EVM address and a payout account are here; the
 * others' earnings stay in the ledger only, and are posted in full (they are
 * cumulative) from the first epoch after the miner registers an address.
 */
export async function claimableEarnings(env: RewardsEnv): Promise<EpochEntry[]> {
  const miners = await registryStub(env).claimableMiners();
  const accounts = [...new Set(miners.map((m) => m.payout_account))];
  const read = await sixAtATime(accounts, async (account) => ({ account, earnings: await ledgerStub(env, account).minerEarnings() }));
  const earned = new Map<string, number>();
  for (const r of read) {
    if (!r) continue;
    for (const m of r.earnings.miners) earned.set(`${r.account}\n${m.miner_id}`, m.reward_micros);
  }
  return miners.map((m) => ({ address: m.evm_address as Address, minerId: m.miner_id, cumulativeMicros: earned.get(`${m.payout_account}\n${m.miner_id}`) ?? 0 }));
}

/** What one round moved out of the ledger for an address, with the miner it was earned under. */
export type Settlement = { address: Address; minerId: string; movedMicros: number };

/**
 * Settles every claimable miner's unsettled earnings out of its payout
 * account for round `round` of `distributor` (LedgerObject.settleEarnings):
 * each Ledger debits at most what is available, once by (distributor,
 * round, miner), and answers what it moved. A Ledger that fails throws:
 * the round is not sealed, and asking again with the same round gets the
 * same amounts (nothing debited twice, nothing left out of the tree).
 */
export async function settleEarnings(env: RewardsEnv, distributor: string, round: number): Promise<Settlement[]> {
  const miners = await registryStub(env).claimableMiners();
  const byAccount = new Map<string, { minerId: string; address: string }[]>();
  for (const m of miners) byAccount.set(m.payout_account, [...(byAccount.get(m.payout_account) ?? []), { minerId: m.miner_id, address: m.evm_address }]);
  const settled = await sixAtATime([...byAccount], async ([account, ms]) => (await ledgerStub(env, account).settleEarnings(distributor, round, ms)) ?? []);
  return settled.flat().map((s) => ({ address: s.address.toLowerCase() as Address, minerId: s.minerId, movedMicros: s.movedMicros }));
}
