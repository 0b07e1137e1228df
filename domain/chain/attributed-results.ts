import { type Address, type Hex, isAddressEqual, sha256, stringToHex } from "viem";
import type { Receipt } from "../receipts/receipt-schema.ts";

/** What SessionQueueV2.recordTask takes: the claim the miners signed, and one signed answer per miner. */
export type AttributedRecord = {
  claim: { router: Address; edgeSessionId: bigint; edgeTaskId: bigint; requestHash: Hex };
  answers: { miner: Address; result: string; signature: Hex }[];
};

const bareSha256 = (text: string) => sha256(stringToHex(text)).slice(2);

/**
 * The results a hybrid task's write-back records, from the edge task's
 * receipt: each counted miner whose signature the router checked ("valid")
 * under its registered address, with the text it signed the SHA-256 of (its
 * own output where the receipt keeps it, or the agreed result where its hash
 * is the agreed one's; a private session's dissenting output is never
 * revealed). A result no miner signed is not written under any miner's
 * address: the agreed result is recorded under the router's own chain
 * account, as the router's word (the transaction is its signature), so the
 * seed's getTaskResults still returns an answer.
 */
export function attributedRecord(receipt: Receipt, agreedResult: string, routerAccount: Address): AttributedRecord {
  const agreedHash = bareSha256(agreedResult);
  const answers: AttributedRecord["answers"] = [];
  for (const m of receipt.miners) {
    if (!m.counted || m.status !== "committed" || m.signature_status !== "valid" || !m.signature || !m.address || !m.precommit_hash) continue;
    const text = m.output ?? (m.precommit_hash === agreedHash ? agreedResult : undefined);
    if (text === undefined || bareSha256(text) !== m.precommit_hash) continue;
    // One address answers once on chain (the contract refuses a miner twice).
    if (answers.some((a) => isAddressEqual(a.miner, m.address as Address))) continue;
    answers.push({ miner: m.address as Address, result: text, signature: m.signature as Hex });
  }
  if (answers.length === 0) answers.push({ miner: routerAccount, result: agreedResult, signature: "0x" });
  return {
    claim: { router: receipt.router as Address, edgeSessionId: BigInt(receipt.session_id), edgeTaskId: BigInt(receipt.task_id), requestHash: `0x${receipt.request_hash}` },
    answers,
  };
}

/** What the router's chain account signs to submit results miners signed for `router` (SessionQueueV2.declareResultSigner). */
export const chainAccountText = (account: Address) => `cortensor-chain-account:v1\naccount:${account.toLowerCase()}`;
