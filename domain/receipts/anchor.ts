import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import type { Hex } from "viem";
import { receiptBodyHash } from "./canonical.ts";
import type { ReceiptBody } from "./receipt-schema.ts";

export { type Anchor, AnchorSchema } from "./anchor-schema.ts";

/**
 * Anchored receipts. The router posts, batch after batch, the Merkle root of
 * its receipts' leaves to the ReceiptAnchor contract (contracts/, the
 * project's own) from its chain account; each receipt is then served with
 * its anchor: where the root is and the proof that its leaf is under it. A
 * receipt's leaf is the SHA-256 of its body's canonical JSON, the very hash
 * its router signature covers, so the anchor sits outside the signed part
 * (adding it changes no signature) and a byte changed in the body changes
 * the leaf. The tree is OpenZeppelin's StandardMerkleTree over one bytes32
 * per leaf (double-keccak leaves, sorted pairs), which Solidity's
 * MerkleProof verifies as well.
 */
export const LEAF_ENCODING = ["bytes32"];

/** A receipt body's leaf: 0x + the SHA-256 (hex) of its canonical JSON. */
export async function receiptLeaf(body: ReceiptBody): Promise<Hex> {
  return `0x${await receiptBodyHash(body)}`;
}

/** One batch's root and each leaf's proof. */
export function merkleBatch(leaves: readonly Hex[]): { root: Hex; proofs: Map<Hex, Hex[]> } {
  const tree = StandardMerkleTree.of(
    leaves.map((l) => [l]),
    LEAF_ENCODING,
  );
  const proofs = new Map<Hex, Hex[]>();
  for (const [i, [leaf]] of tree.entries()) proofs.set(leaf as Hex, tree.getProof(i) as Hex[]);
  return { root: tree.root as Hex, proofs };
}

/** Whether `proof` proves `leaf` under `root`. */
export function provesLeaf(root: string, leaf: string, proof: readonly string[]): boolean {
  try {
    return StandardMerkleTree.verify(root, LEAF_ENCODING, [leaf], [...proof]);
  } catch {
    return false;
  }
}
