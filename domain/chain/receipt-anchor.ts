import { isAddressEqual, zeroAddress, type Address, type Hex } from "viem";
import { chainClients } from "./chain-clients.ts";
import { type ChainSigner, sendContract, senderOf } from "./account-sender.ts";
import { receiptAnchorAbi } from "../../contracts/artifacts.ts";
import type { AnchorTarget } from "../config/config.ts";
import { describeError } from "./rpc.ts";

/** What the ReceiptAnchor contract records of a root; `sender` is the zero address for a root never anchored. */
export type OnChainAnchor = { sender: Address; batch: number; blockNumber: number; count: number };

/** The contract's record of `root`, read over JSON-RPC (`npm run verify -- --rpc` reads it too). */
export async function readAnchor(target: Pick<AnchorTarget, "rpcUrl" | "chainId" | "rpcTimeoutMs">, contract: Address, root: Hex): Promise<OnChainAnchor> {
  const a = await chainClients(target).reader.readContract({ address: contract, abi: receiptAnchorAbi, functionName: "anchorOf", args: [root] });
  return { sender: a.sender, batch: Number(a.batch), blockNumber: Number(a.blockNumber), count: Number(a.count) };
}

/** The number the next batch `sender` posts must carry (the contract numbers a sender's batches from 1, without gaps). */
export async function nextBatch(target: AnchorTarget, sender: Address): Promise<number> {
  const { reader } = chainClients(target);
  return Number(await reader.readContract({ address: target.anchorAddress, abi: receiptAnchorAbi, functionName: "batches", args: [sender] })) + 1;
}

/**
 * Posts a sealed batch's root from the router's chain account, once: a root
 * already on chain (an earlier attempt whose answer was lost) is not sent
 * again; its transaction is found from the contract's ReceiptsAnchored log.
 */
export async function postRoot(
  target: AnchorTarget,
  signer: ChainSigner,
  batch: { batch: number; root: Hex; count: number },
): Promise<{ ok: true; transaction: Hex; blockNumber: number; sent: boolean } | { ok: false; error: string; renumber?: number }> {
  const account = senderOf(signer);
  const { reader } = chainClients(target);
  try {
    const existing = await readAnchor(target, target.anchorAddress, batch.root);
    if (!isAddressEqual(existing.sender, zeroAddress)) {
      if (!isAddressEqual(existing.sender, account.address) || existing.batch !== batch.batch)
        return { ok: false, error: `root ${batch.root} is anchored by ${existing.sender} as batch ${existing.batch}, not by this router as batch ${batch.batch}` };
      const [log] = await reader.getContractEvents({
        address: target.anchorAddress,
        abi: receiptAnchorAbi,
        eventName: "ReceiptsAnchored",
        args: { root: batch.root },
        fromBlock: BigInt(existing.blockNumber),
        toBlock: BigInt(existing.blockNumber),
      });
      if (!log?.transactionHash) return { ok: false, error: `root ${batch.root} is anchored in block ${existing.blockNumber}, whose log was not found` };
      return { ok: true, transaction: log.transactionHash, blockNumber: existing.blockNumber, sent: false };
    }
    // Sealed as a number another post of this account has since taken (the contract's count moved on): renumber, then post.
    const next = await nextBatch(target, account.address);
    if (next !== batch.batch) return { ok: false, error: `batch ${batch.batch} is not this account's next batch on chain (${next})`, renumber: next };
    const sent = await sendContract(account, target, {
      address: target.anchorAddress,
      abi: receiptAnchorAbi,
      functionName: "anchor",
      args: [BigInt(batch.batch), batch.root, BigInt(batch.count)],
    });
    if (sent.status !== "success") return { ok: false, error: `anchor reverted in ${sent.hash}` };
    return { ok: true, transaction: sent.hash, blockNumber: sent.blockNumber, sent: true };
  } catch (err) {
    return { ok: false, error: describeError(err) };
  }
}
