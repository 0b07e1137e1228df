import { type Hex, hexToBigInt, parseSignature, verifyMessage } from "viem";
import { secp256k1 } from "@noble/curves/secp256k1";

const HALF_N = secp256k1.CURVE.n >> 1n;

/**
 * Whether `signature` is `address`'s EIP-191 (`personal_sign`) signature over
 * `message`. A malformed signature, or one that recovers to nobody, is not:
 * every signed text the router accepts (a registration's address proof, a
 * wallet account's, a self-join, a leave) is checked through here. Nor is the
 * high-s twin of a good one (s -> n - s, the recovery bit flipped), which
 * recovers to the same address: honest signers never make one, OpenZeppelin's
 * `ECDSA` refuses it on chain, and so does the result check
 * (`eip191-check.ts`), so that one signing is one signature everywhere.
 */
export async function signedBy(address: string, message: string, signature: Hex): Promise<boolean> {
  try {
    if (hexToBigInt(parseSignature(signature).s) > HALF_N) return false;
    return await verifyMessage({ address: address as Hex, message, signature });
  } catch {
    return false;
  }
}
