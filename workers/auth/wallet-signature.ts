import { isAddress, verifyMessage, type Address, type Hex } from "viem";

/**
 * Whether `signature` is `address`'s EIP-191 personal-message signature of
 * exactly `message`. Malformed input is simply not a valid signature.
 */
export async function isWalletSignature(address: string, message: string, signature: string): Promise<boolean> {
  if (!isAddress(address) || !/^0x[0-9a-fA-F]{130}$/.test(signature)) return false;
  try {
    return await verifyMessage({ address: address as Address, message, signature: signature as Hex });
  } catch {
    return false;
  }
}
