import { describe, expect, it } from "vitest";
import { sha256, stringToHex } from "viem";
import { attributedRecord } from "../../domain/chain/attributed-results";
import { type Receipt, type ReceiptMiner, ReceiptSchema } from "../../domain/receipts/receipt-schema";

const hashOf = (text: string) => sha256(stringToHex(text)).slice(2);
const ROUTER_ACCOUNT = "0x00000000000000000000000000000000000000aa";
const address = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;
const signature = (n: number) => `0x${n.toString(16).padStart(2, "0").repeat(65)}`;

function miner(slot: number, fields: Partial<ReceiptMiner> & { text?: string; private?: boolean }): ReceiptMiner {
  const { text, private: isPrivate, ...rest } = fields;
  return {
    slot,
    miner_id: `m${slot}`,
    address: address(slot + 1),
    status: "committed",
    fault: null,
    counted: true,
    precommit_hash: text === undefined ? null : hashOf(text),
    precommitted_at: "2026-12-07T00:00:00.000Z",
    signature: signature(slot + 1),
    signature_status: "valid",
    similarity: 1,
    agreed: true,
    ...(text !== undefined && !isPrivate ? { output: text } : {}),
    ...rest,
  };
}

function receipt(miners: ReceiptMiner[], isPrivate = false): Receipt {
  return ReceiptSchema.parse({
    version: "cortensor-receipt/1",
    router: "0x00000000000000000000000000000000000000bb",
    session_id: 5,
    task_id: 9,
    request_hash: hashOf("request"),
    private: isPrivate,
    outcome: "answered",
    issued_at: "2026-12-07T00:00:00.000Z",
    consensus: { redundancy: miners.length, quorum: 1, threshold: 0.9, embedding: "lexical", signatures: "prefer", agreed: 1, status: "majority" },
    miners,
    chosen: { slot: 0, output_hash: hashOf("yes") },
    router_signature: signature(200),
  });
}

/** Which results a write-back puts on chain, and under whose address, from an edge task's receipt. */
describe("attributedRecord", () => {
  it("records each counted miner that signed, with the text it signed; never an unsigned, failed or uncounted one under its address", () => {
    const record = attributedRecord(
      receipt([
        miner(0, { text: "yes" }),
        miner(1, { text: "no", agreed: false }),
        miner(2, { text: "yes", signature: null, signature_status: "unsigned" }),
        miner(3, { text: "yes", counted: false }),
        miner(4, { status: "timed_out", signature: null, signature_status: null }),
        miner(5, { text: "yes", address: address(1) }),
      ]),
      "yes",
      ROUTER_ACCOUNT,
    );
    expect(record.claim).toEqual({ router: "0x00000000000000000000000000000000000000bb", edgeSessionId: 5n, edgeTaskId: 9n, requestHash: `0x${hashOf("request")}` });
    // Slot 5 shares slot 0's address: one address answers once.
    expect(record.answers).toEqual([
      { miner: address(1), result: "yes", signature: signature(1) },
      { miner: address(2), result: "no", signature: signature(2) },
    ]);
  });

  it("in a private session records the agreed text for miners that signed it, and no dissenting output", () => {
    const record = attributedRecord(receipt([miner(0, { text: "yes", private: true }), miner(1, { text: "no", agreed: false, private: true })], true), "yes", ROUTER_ACCOUNT);
    expect(record.answers).toEqual([{ miner: address(1), result: "yes", signature: signature(1) }]);
  });

  it("with no signed result records the agreed result under the router's own account, unsigned", () => {
    const record = attributedRecord(receipt([miner(0, { text: "yes", signature: null, signature_status: "unsigned" })]), "yes", ROUTER_ACCOUNT);
    expect(record.answers).toEqual([{ miner: ROUTER_ACCOUNT, result: "yes", signature: "0x" }]);
  });
});
