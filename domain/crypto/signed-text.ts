import { type Hex, verifyMessage } from "viem";

/**
 * Whether `signature` is `address`'s EIP-191 (`personal_sign`) signature over
 * `message`. A malformed signature, or one that recovers to nobody, is not:
 * every signed text the router accepts (a registration's address proof, a
 * wallet account's, a self-join, a leave) is checked through here.
 */
export async function signedBy(address: string, message: string, signature: Hex): Promise<boolean> {
  try {
    return await verifyMessage({ address: address as Hex, message, signature });
  } catch {
    return false;
  }
}
