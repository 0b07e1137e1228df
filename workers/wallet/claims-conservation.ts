import type { Address } from "viem";
import { claimedOnChain, earningsTree } from "../../domain/chain/reward-distributor";
import { chainClients } from "../../domain/chain/chain-clients";
import { describeError } from "../../domain/chain/rpc";
import { rewardDistributorAbi } from "../../contracts/artifacts";
import { loadConfig } from "../../domain/config/config";
import { rewardsStub } from "../../domain/objects/stubs";
import type { ClaimsConservation } from "../../domain/schemas/conservation";
import { claimableEarnings } from "../../durable-objects/chain-index/reward-earnings";
import type { Env } from "../env";

/** The key of `settled` (conservation.ts): what the accounts settled to a distributor for an address. */
export const settledKey = (distributor: string, address: string) => `${distributor.toLowerCase()}|${address.toLowerCase()}`;

/**
 * The ledger and the RewardDistributor agree (ClaimsConservationSchema):
 * per address, the last sealed epoch's amount is what the accounts settled
 * (debited) for it (`settled`, from every account's figures), the last
 * posted one's is at most that, claimed ≤ posted; the posted root is the
 * root of the amounts the router stored for its epoch, and the token's
 * supply is what was claimed. So no token exists that did not leave the
 * ledger. Null when no distributor is configured.
 */
export async function claimsConservation(env: Env, settled: ReadonlyMap<string, bigint>): Promise<ClaimsConservation | null> {
  const chain = loadConfig(env).chain;
  const target = chain.state === "configured" ? chain.rewards : null;
  if (!target) return null;
  const stub = rewardsStub(env, target);
  const epochs = await stub.rewardEpochs();
  const posted = epochs.filter((e) => e.tx_hash !== null).at(-1) ?? null;
  const sealed = epochs.at(-1) ?? null;
  const entries = posted ? await stub.rewardEpochEntries(posted.epoch) : [];
  const sealedEntries = sealed ? (sealed.epoch === posted?.epoch ? entries : await stub.rewardEpochEntries(sealed.epoch)) : [];
  const settledOf = (address: string) => settled.get(settledKey(target.distributorAddress, address)) ?? 0n;
  const prefix = `${target.distributorAddress.toLowerCase()}|`;
  const settledAddresses = [...settled.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  const sealedOf = new Map(sealedEntries.map((e) => [e.address.toLowerCase(), BigInt(e.cumulativeMicros)]));
  const unmatched = [...new Set([...settledAddresses, ...sealedOf.keys()])].filter((a) => (sealedOf.get(a) ?? 0n) !== settledOf(a)).sort();
  const earnedNow = new Map((await claimableEarnings(env)).map((e) => [e.address.toLowerCase(), e.cumulativeMicros]));
  const overPosted = entries.filter((e) => BigInt(e.cumulativeMicros) > settledOf(e.address)).map((e) => e.address);
  const postedMicros = entries.reduce((t, e) => t + BigInt(e.cumulativeMicros), 0n);
  const settledMicros = settledAddresses.reduce((t, a) => t + settledOf(a), 0n);
  const earnedMicros = entries.reduce((t, e) => t + BigInt(earnedNow.get(e.address.toLowerCase()) ?? 0), 0n);
  const base = {
    epoch: posted?.epoch ?? null,
    posted_micros: Number(postedMicros),
    settled_micros: Number(settledMicros),
    unposted_settled_micros: Number(settledMicros - postedMicros),
    earned_micros: Number(earnedMicros),
    over_posted: overPosted,
    unmatched,
  };
  try {
    const onChain = await claimedOnChain(
      target,
      entries.map((e) => e.address as Address),
    );
    const overClaimed = entries.filter((e) => (onChain.byAddress.get(e.address.toLowerCase() as Address) ?? 0n) > BigInt(e.cumulativeMicros)).map((e) => e.address);
    let rootMatches: boolean | null = null;
    if (posted) {
      const chainRoot = await chainClients(target).reader.readContract({
        address: target.distributorAddress,
        abi: rewardDistributorAbi,
        functionName: "roots",
        args: [BigInt(posted.epoch)],
      });
      rootMatches = earningsTree(entries)?.root === posted.root && chainRoot.toLowerCase() === posted.root.toLowerCase();
    }
    // Minted only by claims: the supply is what the distributor paid. (Each posted address's claim is
    // checked above; claims under epochs this store does not hold, were it ever lost, are not.)
    const supplyMatches = onChain.supply === onChain.total;
    return {
      ...base,
      holds: overPosted.length === 0 && unmatched.length === 0 && overClaimed.length === 0 && rootMatches !== false && supplyMatches,
      claimed_micros: Number(onChain.total),
      token_supply_micros: Number(onChain.supply),
      root_matches: rootMatches,
      over_claimed: overClaimed,
      chain_error: null,
    };
  } catch (err) {
    return { ...base, holds: false, claimed_micros: null, token_supply_micros: null, root_matches: null, over_claimed: [], chain_error: describeError(err) };
  }
}
