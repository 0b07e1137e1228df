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
