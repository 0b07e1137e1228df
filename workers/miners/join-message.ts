/**
 * The texts a miner's key signs to join a router by itself, and to leave it
 * (issue 25; the shared spec both the router's join route and the miner node
 * follow). EIP-191 `personal_sign` over plain lines, like the result
 * signature and the registration proof: any wallet signs it, and it says what
 * it grants when shown. A join names the router (its receipt signer, so a
 * join made for one router does not admit the miner to another), the URL,
 * what the miner serves, a hash of the credential the router must present
 * (the credential itself travels only in the request body), a single-use
 * nonce and the time (so it cannot be replayed). A renewal is a join with a
 * fresh nonce.
 *
 * Imported by the Worker and by the miner node (Node), so it imports nothing.
 */

export type JoinClaim = {
  /** The router's signer address (GET /.well-known/cortensor-router.json `receipt_signer.address`). */
  router: string;
  /** The node's public base URL. */
  url: string;
  /** The node's address (its key's). */
  address: string;
  models: readonly string[];
  protocol: "openai" | "neuroshard";
  offchain: boolean;
  maxConcurrency: number;
  /** Lowercase hex SHA-256 of the credential (UTF-8). */
  credentialSha256: string;
  /** 32 lowercase hex characters, random, single use per address. */
  nonce: string;
  /** ISO 8601 UTC (`Date.prototype.toISOString()`). */
  issuedAt: string;
};

export type LeaveClaim = { router: string; address: string; nonce: string; issuedAt: string };

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

export function leaveMessage(c: LeaveClaim): string {
  return ["cortensor-router miner leave", `router: ${c.router.toLowerCase()}`, `address: ${c.address.toLowerCase()}`, `nonce: ${c.nonce}`, `issued_at: ${c.issuedAt}`].join("\n");
}
