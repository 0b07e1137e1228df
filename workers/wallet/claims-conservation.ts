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

/**
 * The ledger and the RewardDistributor agree (ClaimsConservationSchema):
 * claimed ≤ posted ≤ earned per address, the posted root is the root of
 * the amounts the router stored for its epoch, and the token's supply is
 * what was claimed. Null when no distributor is configured.
 */
export async function claimsConservation(env: Env): Promise<ClaimsConservation | null> {
  const chain = loadConfig(env).chain;
  const target = chain.state === "configured" ? chain.rewards : null;
  if (!target) return null;
  const stub = rewardsStub(env, target);
  const posted = (await stub.rewardEpochs()).filter((e) => e.tx_hash !== null).at(-1) ?? null;
  const entries = posted ? await stub.rewardEpochEntries(posted.epoch) : [];
  const earnedNow = new Map((await claimableEarnings(env)).map((e) => [e.address.toLowerCase(), e.cumulativeMicros]));
  const overPosted = entries.filter((e) => e.cumulativeMicros > (earnedNow.get(e.address.toLowerCase()) ?? 0)).map((e) => e.address);
  const postedMicros = entries.reduce((t, e) => t + BigInt(e.cumulativeMicros), 0n);
  const earnedMicros = entries.reduce((t, e) => t + BigInt(earnedNow.get(e.address.toLowerCase()) ?? 0), 0n);
  const base = { epoch: posted?.epoch ?? null, posted_micros: Number(postedMicros), earned_micros: Number(earnedMicros), over_posted: overPosted };
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
      holds: overPosted.length === 0 && overClaimed.length === 0 && rootMatches !== false && supplyMatches,
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
