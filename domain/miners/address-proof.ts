import type { Hex } from "viem";
import { signedBy } from "../crypto/signed-text.ts";

/** What a registration's address proof is signed over: the router, the miner's URL and address, and a single-use challenge. */
export type AddressClaim = { router: string; url: string; address: string; nonce: string; issuedAt: number };

/**
 * The EIP-191 text a miner's key signs to register its address here. It
 * names the router (its receipt signer address), so a proof made for
 * another router does not register here; the miner's URL, so it does not
 * register another endpoint; and the router's single-use nonce, so it
 * registers once (the registry uses the nonce up with the registration).
 */
export function addressProofMessage(c: AddressClaim): string {
  return [
    "cortensor-router miner registration",
    `router: ${c.router.toLowerCase()}`,
    `url: ${c.url}`,
    `address: ${c.address.toLowerCase()}`,
    `nonce: ${c.nonce}`,
    `issued_at: ${new Date(c.issuedAt).toISOString()}`,
  ].join("\n");
}

/** Whether `signature` is `claim.address`'s signature over the claim's message (a malformed signature is not). */
export const addressProven = (claim: AddressClaim, signature: Hex): Promise<boolean> => signedBy(claim.address, addressProofMessage(claim), signature);
