import type { Address } from "viem";
import { claimedOnChain } from "../../domain/chain/reward-distributor";
import { describeError } from "../../domain/chain/rpc";
import { loadConfig } from "../../domain/config/config";
import { ApiError } from "../../domain/errors";
import { ledgerStub, registryStub, rewardsStub } from "../../domain/objects/stubs";
import type { WalletClaims, WalletClaimsQuery } from "../../domain/schemas/wallet-claims";
import type { Env } from "../env";

/**
 * The account's claimable rewards: for each of its miners with a registered
 * address, what the ledger says it earned, what of that left the ledger
 * for the distributor (settled), what the last posted epoch says (with the
 * proof a claim takes) and what it claimed on chain.
 */
export async function walletClaims(env: Env, customerId: string, q: WalletClaimsQuery): Promise<WalletClaims> {
  const chain = loadConfig(env).chain;
  // A distributor set beside an invalid chain configuration (a bad REWARD_EPOCH_S, say) is not "no rewards": say what is wrong.
  if (chain.state === "misconfigured") throw new ApiError(503, "chain_not_configured", "the chain configuration is invalid", { problems: chain.problems });
  const target = chain.state === "configured" ? chain.rewards : null;
  if (!target) throw new ApiError(404, "not_found", "this router posts no rewards on chain (CHAIN_REWARD_DISTRIBUTOR_ADDRESS is not set)");
  const miners = (await registryStub(env).claimableMiners()).filter((m) => m.payout_account === customerId && (!q.address || m.evm_address === q.address.toLowerCase()));
  const earnings = await ledgerStub(env, customerId).minerEarnings();
  if (!earnings.exists) throw new ApiError(404, "account_not_found", `account ${customerId} does not exist`);
  const earned = new Map(earnings.miners.map((m) => [m.miner_id, m.reward_micros]));
  const settled = new Map(earnings.miners.map((m) => [m.miner_id, m.settled_micros]));
  const claims = new Map((await rewardsStub(env, target).rewardClaims(miners.map((m) => m.evm_address))).map((c) => [c.address, c]));
  let onChain: Awaited<ReturnType<typeof claimedOnChain>> | null = null;
  let chainError: string | null = null;
  try {
    onChain = await claimedOnChain(
      target,
      miners.map((m) => m.evm_address as Address),
    );
  } catch (err) {
    chainError = describeError(err);
  }
  return {
    chain_id: target.chainId,
    distributor: target.distributorAddress,
    token: onChain?.token ?? null,
    chain_error: chainError,
    claims: miners.map((m) => {
      const claim = claims.get(m.evm_address) ?? null;
      const posted = claim?.cumulative_micros ?? 0;
      const claimed = onChain ? Number(onChain.byAddress.get(m.evm_address as Address) ?? 0n) : null;
      const minerEarned = earned.get(m.miner_id) ?? 0;
      const minerSettled = settled.get(m.miner_id) ?? 0;
      return {
        miner_id: m.miner_id,
        address: m.evm_address,
        earned_micros: minerEarned,
        settled_micros: minerSettled,
        posted_micros: posted,
        claimed_micros: claimed,
        unclaimed_micros: claimed === null ? null : Math.max(0, posted - claimed),
        unposted_micros: Math.max(0, minerEarned - minerSettled),
        claim: claim ? { epoch: claim.epoch, root: claim.root, cumulative_micros: claim.cumulative_micros, proof: claim.proof, transaction: claim.transaction } : null,
      };
    }),
  };
}
