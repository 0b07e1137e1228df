import type { Hex } from "viem";
import { signedBy } from "../crypto/signed-text.ts";

/**
 * What a miner node signs to join a router, or to renew its lease (a renewal
 * is a join with a fresh nonce). `router` is the router's receipt signer
 * address, so a join made for another router does not admit it here;
 * `credentialSha256` binds the bearer credential the router will present to
 * the node without putting the credential itself in the signed text;
 * `issuedAt` is the ISO text as sent (`Date.prototype.toISOString()`), signed
 * as is so router and node build the same bytes.
 */
export type JoinClaim = {
  router: string;
  url: string;
  address: string;
  models: readonly string[];
  protocol: "openai" | "neuroshard";
  offchain: boolean;
  maxConcurrency: number;
  credentialSha256: string;
  nonce: string;
  issuedAt: string;
};

/** What a miner node signs to leave a router (its lease ends at once). */
export type LeaveClaim = { router: string; address: string; nonce: string; issuedAt: string };

/** The EIP-191 text of a join (the shared spec, docs/architecture.md "Miners joining by themselves"). */
export function joinMessage(c: JoinClaim): string {
  return [
    "cortensor-router miner join",
    `router: ${c.router.toLowerCase()}`,
    `url: ${c.url}`,
    `address: ${c.address.toLowerCase()}`,
    `models: ${c.models.join(",")}`,
    `protocol: ${c.protocol}`,
    `offchain: ${c.offchain}`,
    `max_concurrency: ${c.maxConcurrency}`,
    `credential_sha256: ${c.credentialSha256.toLowerCase()}`,
    `nonce: ${c.nonce}`,
    `issued_at: ${c.issuedAt}`,
  ].join("\n");
}

/** The EIP-191 text of a leave. */
export function leaveMessage(c: LeaveClaim): string {
  return ["cortensor-router miner leave", `router: ${c.router.toLowerCase()}`, `address: ${c.address.toLowerCase()}`, `nonce: ${c.nonce}`, `issued_at: ${c.issuedAt}`].join("\n");
}

/** Whether `signature` is the claim's address's signature over its join text. */
export const joinSigned = (claim: JoinClaim, signature: Hex): Promise<boolean> => signedBy(claim.address, joinMessage(claim), signature);

/** Whether `signature` is the claim's address's signature over its leave text. */
export const leaveSigned = (claim: LeaveClaim, signature: Hex): Promise<boolean> => signedBy(claim.address, leaveMessage(claim), signature);
