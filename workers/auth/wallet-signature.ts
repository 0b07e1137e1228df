import { isAddress, isHex, verifyMessage } from "viem";

/**
 * Whether `signature` is `address`'s EIP-191 personal-message signature of
 * exactly `message`. Malformed input is simply not a valid signature.
 */
export async function isWalletSignature(address: string, message: string, signature: string): Promise<boolean> {
  // 65 bytes: r, s and v.
  if (!isAddress(address) || !isHex(signature, { strict: true }) || signature.length !== 132) return false;
  try {
    return await verifyMessage({ address, message, signature });
  } catch {
    return false;
  }
}
