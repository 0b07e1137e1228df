import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import type { Address, Hex } from "viem";
import { type ChainSigner, sendContract, senderOf } from "./account-sender.ts";
import { rewardDistributorAbi, rewardTokenAbi } from "../../contracts/artifacts.ts";
import type { RewardTarget } from "../config/config.ts";
import { chainClients } from "./chain-clients.ts";
import { describeError } from "./rpc.ts";

/**
 * Claimable rewards. Per epoch the router posts to the RewardDistributor
 * (contracts/, the project's own) the Merkle root of every proven miner
 * address's CUMULATIVE earnings, in integer micros (one RewardToken unit is
 * one micro). The tree is OpenZeppelin's StandardMerkleTree over
 * (address, uint256) leaves, which the contract's MerkleProof verifies for
 * (msg.sender, cumulative): a miner claims with its own key what it earned
 * and has not claimed yet.
 */
export const EARNINGS_LEAF = ["address", "uint256"];

/** One address's cumulative earnings at an epoch. */
export type AddressEarnings = { address: Address; cumulativeMicros: number };
export type EarningsTree = { root: Hex; totalMicros: number; proofs: Map<Address, Hex[]> };

/** The root over `entries` (addresses lower-case, one entry each) and each address's proof; null when there is none. */
export function earningsTree(entries: readonly AddressEarnings[]): EarningsTree | null {
  if (entries.length === 0) return null;
  const tree = StandardMerkleTree.of(
    entries.map((e) => [e.address.toLowerCase(), BigInt(e.cumulativeMicros).toString()]),
    EARNINGS_LEAF,
  );
  const proofs = new Map<Address, Hex[]>();
  for (const [i, [address]] of tree.entries()) proofs.set(address as Address, tree.getProof(i) as Hex[]);
  return { root: tree.root as Hex, totalMicros: entries.reduce((t, e) => t + e.cumulativeMicros, 0), proofs };
}

/** Whether `proof` proves (address, cumulative) under `root`. */
export function provesEarnings(root: string, address: string, cumulativeMicros: number, proof: readonly string[]): boolean {
  try {
    return StandardMerkleTree.verify(root, EARNINGS_LEAF, [address.toLowerCase(), BigInt(cumulativeMicros).toString()], [...proof]);
  } catch {
    return false;
  }
}

type Target = Pick<RewardTarget, "rpcUrl" | "chainId" | "rpcTimeoutMs" | "distributorAddress">;

/** The distributor's last posted epoch (0: none) and that epoch's root. */
export async function postedEpoch(target: Target): Promise<{ epoch: number; root: Hex | null }> {
  const { reader } = chainClients(target);
  const epoch = await reader.readContract({ address: target.distributorAddress, abi: rewardDistributorAbi, functionName: "epoch" });
  if (epoch === 0n) return { epoch: 0, root: null };
  const root = await reader.readContract({ address: target.distributorAddress, abi: rewardDistributorAbi, functionName: "roots", args: [epoch] });
  return { epoch: Number(epoch), root };
}

/** What each address claimed on chain in all, in micros, and the distributor's total. */
export async function claimedOnChain(target: Target, addresses: readonly Address[]): Promise<{ byAddress: Map<Address, bigint>; total: bigint; supply: bigint; token: Address }> {
  const { reader } = chainClients(target);
  const byAddress = new Map<Address, bigint>();
  for (const address of addresses) {
    byAddress.set(
      address.toLowerCase() as Address,
      await reader.readContract({ address: target.distributorAddress, abi: rewardDistributorAbi, functionName: "claimed", args: [address] }),
    );
  }
  const total = await reader.readContract({ address: target.distributorAddress, abi: rewardDistributorAbi, functionName: "totalClaimed" });
  const token = await reader.readContract({ address: target.distributorAddress, abi: rewardDistributorAbi, functionName: "token" });
  const supply = await reader.readContract({ address: token, abi: rewardTokenAbi, functionName: "totalSupply" });
  return { byAddress, total, supply, token: token.toLowerCase() as Address };
}

export type EpochPost = { ok: true; transaction: Hex; blockNumber: number; sent: boolean } | { ok: false; error: string; renumber?: number };

/**
 * Posts a sealed epoch's root from the router's chain account, once. The
 * chain's epoch is read first: an epoch already there with this root (an
 * earlier attempt whose answer was lost) is not sent again, its transaction
 * is found from the RootPosted log; an epoch the chain is already past with
 * another root asks to be renumbered past it.
 */
export async function postEpoch(target: Target, signer: ChainSigner, epoch: { epoch: number; root: Hex; totalMicros: number }): Promise<EpochPost> {
  const { reader } = chainClients(target);
  try {
    const onChain = await postedEpoch(target);
    if (onChain.epoch >= epoch.epoch) {
      const root = await reader.readContract({ address: target.distributorAddress, abi: rewardDistributorAbi, functionName: "roots", args: [BigInt(epoch.epoch)] });
      if (root.toLowerCase() !== epoch.root.toLowerCase())
        return { ok: false, error: `epoch ${epoch.epoch} is not after the chain's (${onChain.epoch})`, renumber: onChain.epoch + 1 };
      const blockNumber = await reader.readContract({ address: target.distributorAddress, abi: rewardDistributorAbi, functionName: "postedAt", args: [BigInt(epoch.epoch)] });
      const [log] = await reader.getContractEvents({
        address: target.distributorAddress,
        abi: rewardDistributorAbi,
        eventName: "RootPosted",
        args: { epoch: BigInt(epoch.epoch) },
        fromBlock: blockNumber,
        toBlock: blockNumber,
      });
      if (!log?.transactionHash) return { ok: false, error: `epoch ${epoch.epoch} is posted in block ${blockNumber}, whose log was not found` };
      return { ok: true, transaction: log.transactionHash, blockNumber: Number(blockNumber), sent: false };
    }
    const sent = await sendContract(senderOf(signer), target, {
      address: target.distributorAddress,
      abi: rewardDistributorAbi,
      functionName: "postRoot",
      args: [BigInt(epoch.epoch), epoch.root, BigInt(epoch.totalMicros)],
    });
    if (sent.status !== "success") return { ok: false, error: `postRoot reverted in ${sent.hash}` };
    return { ok: true, transaction: sent.hash, blockNumber: sent.blockNumber, sent: true };
  } catch (err) {
    return { ok: false, error: describeError(err) };
  }
}
