import type { Hex } from "viem";
import { signedBy } from "../../domain/crypto/signed-text";

/** What a wallet account's address proof is signed over: the router, the account, the address, a single-use challenge. */
export type AccountAddressClaim = { router: string; account: string; address: string; nonce: string; issuedAt: number };

/**
 * The EIP-191 text an address's key signs to be reached as a wallet
 * account here (`POST /neuroshard/api/v1/wallet/addresses`). It names the
 * router (its receipt signer address), so a proof made for another router
 * does not register here; the account, so a proof given to one customer
 * does not make another customer the address's holder; and the router's
 * single-use nonce, so it registers once. Unlike a miner's proof
 * (domain/miners/address-proof.ts) it opens with its own first line: a
 * miner registration's signature is never an account's.
 */
export function accountAddressProofMessage(c: AccountAddressClaim): string {
  return [
    "cortensor-router wallet address",
    `router: ${c.router.toLowerCase()}`,
    `account: ${c.account}`,
    `address: ${c.address.toLowerCase()}`,
    `nonce: ${c.nonce}`,
    `issued_at: ${new Date(c.issuedAt).toISOString()}`,
  ].join("\n");
}

/** Whether `signature` is `claim.address`'s signature over the claim's message (a malformed signature is not). */
export const accountAddressProven = (claim: AccountAddressClaim, signature: Hex): Promise<boolean> => signedBy(claim.address, accountAddressProofMessage(claim), signature);

/** Whether a wallet recipient is written as an EVM address (a customer id never is: at most 40 characters, no uppercase). */
export const isEvmAddress = (to: string) => /^0x[0-9a-fA-F]{40}$/.test(to);
