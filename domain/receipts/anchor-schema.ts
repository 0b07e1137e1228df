import { z } from "@hono/zod-openapi";

/** A receipt's anchor as served (`anchor.ts` builds it); apart from the tree code, so the receipt schema pulls in no Merkle library. */
const Hash = z.string().regex(/^0x[0-9a-f]{64}$/, "a 0x-prefixed lowercase 32-byte hex");

export const AnchorSchema = z
  .discriminatedUnion("status", [
    z.strictObject({ status: z.literal("pending").describe("queued: its batch is not on chain yet") }),
    z.strictObject({
      status: z.literal("anchored"),
      chain_id: z.number().int().positive(),
      contract: z
        .string()
        .regex(/^0x[0-9a-fA-F]{40}$/)
        .describe("the ReceiptAnchor contract"),
      batch: z.number().int().min(1).describe("the batch number the router's account posted the root as"),
      root: Hash.describe("the batch's Merkle root (OpenZeppelin StandardMerkleTree, leaf encoding bytes32)"),
      leaf: Hash.describe("the receipt's leaf: 0x + SHA-256 of its body's canonical JSON (what the router signature covers)"),
      proof: z.array(Hash).describe("the Merkle proof of the leaf under the root"),
      transaction: Hash.describe("the transaction that posted the root"),
    }),
  ])
  .describe("The receipt's anchor on chain (outside the signed body: the router signature does not cover it); checked by npm run verify -- --rpc")
  .openapi("ReceiptAnchor");
export type Anchor = z.infer<typeof AnchorSchema>;
