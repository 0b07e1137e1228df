import { z } from "@hono/zod-openapi";
import { ConsensusStatusSchema } from "../schemas/consensus-status.ts";
import { AnchorSchema } from "./anchor-schema.ts";

/**
 * A receipt: the record of how one task's answer was reached, signed by the
 * router, that anyone can check offline (`verify-receipt.ts`, `npm run
 * verify`). docs/receipt.schema.json is this schema as JSON Schema (a test
 * keeps them equal). Versioned: a change to what is signed is a new version.
 */
export const RECEIPT_VERSION = "cortensor-receipt/1";

/** Where a task's receipt is read; a completion links to it as `receipt_url`. */
export const receiptPath = (sessionId: number, taskId: number) => `/api/v1/tasks/${sessionId}/${taskId}/receipt`;

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex SHA-256");
const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "a 0x-prefixed 20-byte hex address");
const Signature = z.string().regex(/^0x[0-9a-fA-F]{130}$/, "a 0x-prefixed 65-byte hex signature");

export const ReceiptMinerSchema = z.strictObject({
  slot: z.number().int().min(0).describe("the miner's place in dispatch order"),
  miner_id: z.string(),
  address: Address.nullable().describe("the miner's registered EVM address when the task ran; null: none registered"),
  status: z.enum(["committed", "failed", "timed_out", "cancelled", "pending"]).describe("pending: still running when the task was decided"),
  fault: z.enum(["miner", "request"]).nullable().describe("failed or timed out: whose fault (miner counts against it)"),
  counted: z.boolean().describe("whether this result was among those the consensus was decided on"),
  precommit_hash: Sha256Hex.nullable().describe("SHA-256 of the miner's output text (its precommit)"),
  precommitted_at: z.iso.datetime().nullable(),
  signature: Signature.nullable().describe(
    "the miner's EIP-191 signature of cortensor-result:v1 / router / session / task / request / output (see domain/miners/result-signature.ts)",
  ),
  signature_status: z
    .enum(["valid", "unsigned"])
    .nullable()
    .describe("valid: checked by the router against address; unsigned: accepted without one (policy prefer); null: not asked (policy off) or not counted"),
  similarity: z.number().nullable().describe("cosine similarity of its output to the chosen one"),
  agreed: z.boolean().nullable().describe("whether it agreed with the chosen output"),
  output: z.string().optional().describe("the output text: public sessions only; a private session's receipt carries hashes, never text"),
  // Optional, present only when true: receipts signed before probation verify as they were.
  probation: z.literal(true).optional().describe("the miner was on probation: its copy counted only in a group an established miner gave (domain/miners/probation.ts)"),
});
export type ReceiptMiner = z.infer<typeof ReceiptMinerSchema>;

export const ReceiptBodySchema = z.strictObject({
  version: z.literal(RECEIPT_VERSION),
  router: Address.describe("the router's signer address: who signs this receipt, and the router id miners sign for"),
  session_id: z.number().int().min(0),
  task_id: z.number().int().min(0),
  request_hash: Sha256Hex.describe("the router's hash of the request (SHA-256 of the session, the flow and the request's work fields)"),
  private: z.boolean(),
  outcome: z
    .enum(["answered", "consensus_not_reached", "failed", "timed_out"])
    .describe("answered: the client got the chosen output; the others: the task ended without an answer"),
  issued_at: z.iso.datetime(),
  consensus: z.strictObject({
    redundancy: z.number().int().min(1),
    quorum: z.number().int().min(1),
    threshold: z.number().describe("the similarity at or above which outputs nearly agree"),
    embedding: z.string().describe("the embedding source similarities came from; lexical is the built-in one a verifier can recompute"),
    signatures: z.enum(["off", "prefer", "require"]).describe("the session's signature policy when the task ran"),
    agreed: z.number().int().min(0),
    // Optional: receipts signed before it came verify as they were.
    status: ConsensusStatusSchema.nullable()
      .optional()
      .describe("the consensus status the client was told (x-consensus): no_agreement when no two counted outputs agree; null when the task ended undecided"),
  }),
  miners: z.array(ReceiptMinerSchema),
  chosen: z
    .strictObject({ slot: z.number().int().min(0), output_hash: Sha256Hex })
    .nullable()
    .describe("the answer: the slot whose output was chosen and that output's SHA-256; null when there was none"),
});
export type ReceiptBody = z.infer<typeof ReceiptBodySchema>;

export const ReceiptSchema = ReceiptBodySchema.extend({
  router_signature: Signature.describe(
    "the router's EIP-191 signature of 'cortensor-receipt:v1\\nsha256:' + the SHA-256 (hex) of the body's canonical JSON (every field but this one and anchor, keys sorted, no whitespace)",
  ),
  // Outside the signed body: a receipt is anchored after it is signed. Absent where the router anchors no receipts.
  anchor: AnchorSchema.optional(),
})
  .describe("A task's receipt: how its answer was reached, signed by the router; checkable offline with npm run verify")
  .openapi("Receipt");
export type Receipt = z.infer<typeof ReceiptSchema>;
