import { z } from "@hono/zod-openapi";

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

export const ReceiptMinerSchema = z.object({
  slot: z.number().int().min(0),
  miner_id: z.string(),
  /** The miner's registered EVM address when the task ran; null: none registered. */
  address: Address.nullable(),
  status: z.enum(["committed", "failed", "timed_out", "cancelled", "pending"]),
  /** Failed or timed out: whose fault (`miner` counts against it). */
  fault: z.enum(["miner", "request"]).nullable(),
  /** Whether this result was among those the consensus was decided on. */
  counted: z.boolean(),
  /** SHA-256 of the miner's output (its precommit). */
  precommit_hash: Sha256Hex.nullable(),
  precommitted_at: z.iso.datetime().nullable(),
  /** The miner's EIP-191 signature of its result (`workers/miners/result-signature.ts`). */
  signature: Signature.nullable(),
  /** valid: checked by the router against `address`; unsigned: accepted without one (policy prefer); null: not asked (policy off) or no result. */
  signature_status: z.enum(["valid", "unsigned"]).nullable(),
  similarity: z.number().nullable(),
  agreed: z.boolean().nullable(),
  /** The output text: public sessions only (a private session's receipt carries hashes, never text). */
  output: z.string().optional(),
});
export type ReceiptMiner = z.infer<typeof ReceiptMinerSchema>;

export const ReceiptBodySchema = z.object({
  version: z.literal(RECEIPT_VERSION),
  /** The router's signer address: who signs this receipt, and the router id miners sign for. */
  router: Address,
  session_id: z.number().int().min(0),
  task_id: z.number().int().min(0),
  /** The router's hash of the request (hex SHA-256 of the session, the flow and the request's work fields). */
  request_hash: Sha256Hex,
  private: z.boolean(),
  /** answered: the client got the chosen output; the others: the task ended without an answer. */
  outcome: z.enum(["answered", "consensus_not_reached", "failed", "timed_out"]),
  issued_at: z.iso.datetime(),
  consensus: z.object({
    redundancy: z.number().int().min(1),
    quorum: z.number().int().min(1),
    threshold: z.number(),
    /** The embedding source similarities came from; `lexical` is the built-in one the verifier can recompute. */
    embedding: z.string(),
    /** The session's signature policy when the task ran. */
    signatures: z.enum(["off", "prefer", "require"]),
    agreed: z.number().int().min(0),
  }),
  miners: z.array(ReceiptMinerSchema),
  /** The answer: the slot whose output was chosen and that output's SHA-256; null when there was none. */
  chosen: z.object({ slot: z.number().int().min(0), output_hash: Sha256Hex }).nullable(),
});
export type ReceiptBody = z.infer<typeof ReceiptBodySchema>;

export const ReceiptSchema = ReceiptBodySchema.extend({
  /** The router's EIP-191 signature of `receiptMessage(body)`: the SHA-256 of the body's canonical JSON. */
  router_signature: Signature,
}).openapi("Receipt");
export type Receipt = z.infer<typeof ReceiptSchema>;
