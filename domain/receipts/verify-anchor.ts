import { createPublicClient, http, isAddress, isAddressEqual, zeroAddress, type Address, type Hex } from "viem";
import { readAnchor } from "../chain/receipt-anchor.ts";
import { describeError } from "../chain/rpc.ts";
import { provesLeaf, receiptLeaf } from "./anchor.ts";
import type { Receipt } from "./receipt-schema.ts";
import type { Check } from "./verify-receipt.ts";

/**
 * Checks a receipt's anchor on chain (`npm run verify -- --rpc`): that the
 * receipt's leaf is the hash of the body it came with (a byte changed fails
 * here), that the proof puts the leaf under the root, and, over JSON-RPC,
 * that the ReceiptAnchor contract records that root as posted by `sender`
 * (the chain account the router publishes) as the batch the anchor names,
 * on the chain it names, in the transaction it names.
 */
export async function verifyAnchor(receipt: Receipt, options: { rpcUrl: string; sender: string | null; timeoutMs?: number }): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (name: string, result: Check["result"], detail: string) => checks.push({ name, result, detail });
  const anchor = receipt.anchor;
  if (!anchor) {
    add("anchor", "fail", "the receipt carries no anchor: its router does not anchor receipts, or it was saved without one");
    return checks;
  }
  if (anchor.status === "pending") {
    add("anchor", "fail", "not anchored yet: its batch is not on chain; fetch the receipt again later");
    return checks;
  }
  const { router_signature: _signature, anchor: _anchor, ...body } = receipt;
  const leaf = await receiptLeaf(body);
  if (leaf !== anchor.leaf) add("anchor-leaf", "fail", `the receipt hashes to ${leaf}, not to the anchored leaf ${anchor.leaf}: it was changed after anchoring`);
  else add("anchor-leaf", "pass", `the receipt's leaf is ${leaf.slice(0, 14)}…`);
  const included = provesLeaf(anchor.root, leaf, anchor.proof);
  add(
    "anchor-proof",
    included ? "pass" : "fail",
    included ? `the proof puts the leaf under root ${anchor.root.slice(0, 14)}…` : `the proof does not put leaf ${leaf} under root ${anchor.root}`,
  );

  if (!options.sender || !isAddress(options.sender, { strict: false })) {
    add("anchor-onchain", "fail", "no router chain account pinned: use --router-url (its published receipt_anchor.sender) or --anchor-sender 0x…");
    return checks;
  }
  const sender = options.sender as Address;
  const target = { rpcUrl: options.rpcUrl, chainId: anchor.chain_id, rpcTimeoutMs: options.timeoutMs ?? 10_000 };
  try {
    const client = createPublicClient({ transport: http(options.rpcUrl, { retryCount: 1, timeout: target.rpcTimeoutMs }) });
    const chainId = await client.getChainId();
    if (chainId !== anchor.chain_id) {
      add("anchor-onchain", "fail", `the RPC serves chain ${chainId}, the anchor is on chain ${anchor.chain_id}`);
      return checks;
    }
    const onChain = await readAnchor(target, anchor.contract as Address, anchor.root as Hex);
    const problems: string[] = [];
    if (isAddressEqual(onChain.sender, zeroAddress)) problems.push(`contract ${anchor.contract} has no record of root ${anchor.root}`);
    else {
      if (!isAddressEqual(onChain.sender, sender)) problems.push(`the root was posted by ${onChain.sender}, not by the router's published account ${sender}`);
      if (onChain.batch !== anchor.batch) problems.push(`the root is batch ${onChain.batch} on chain, the anchor says ${anchor.batch}`);
      const tx = await client.getTransactionReceipt({ hash: anchor.transaction as Hex }).catch(() => null);
      if (tx?.status !== "success" || !tx.to || !isAddressEqual(tx.to, anchor.contract as Address) || Number(tx.blockNumber) !== onChain.blockNumber)
        problems.push(`transaction ${anchor.transaction} is not the one that posted the root (block ${onChain.blockNumber})`);
    }
    add(
      "anchor-onchain",
      problems.length ? "fail" : "pass",
      problems.length ? problems.join("; ") : `root posted by ${sender} as batch ${onChain.batch} of ${onChain.count} receipts, block ${onChain.blockNumber}, chain ${chainId}`,
    );
  } catch (err) {
    add("anchor-onchain", "fail", `cannot read the anchor over ${options.rpcUrl}: ${describeError(err)}`);
  }
  return checks;
}
