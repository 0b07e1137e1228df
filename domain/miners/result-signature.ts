import { type Hex, isHex } from "viem";
import { isEip191SignedBy } from "../crypto/eip191-check.ts";

/**
 * What a miner signs for one result, and how the router asks for and reads
 * the signature. EIP-191 `personal_sign` over a short text rather than
 * EIP-712 typed data: any signer (a wallet, `cast wallet sign`, viem,
 * ethers) signs it with no domain or type definitions to agree on, and the
 * text says what was signed when a wallet shows it. The text binds the
 * router, the session, the task, the request's hash and the output's
 * SHA-256, so a signature cannot be replayed for another task or output.
 *
 * Imported by the Worker, the dev miner and the offline verifier (Node), so
 * it imports packages and `.ts` files only.
 */

/** Request headers telling a miner what to sign; an OpenAI-compatible server ignores headers it does not know. */
export const SIGN_HEADERS = {
  router: "x-cortensor-router",
  session: "x-cortensor-session",
  task: "x-cortensor-task",
  requestHash: "x-cortensor-request-hash",
} as const;
/** The response header (or `cortensor_signature` field of a streamed chunk, or of an off-chain delivery) carrying the signature. */
export const SIGNATURE_HEADER = "x-cortensor-signature";
export const SIGNATURE_FIELD = "cortensor_signature";

export type ResultClaim = {
  /** The router's signer address (the one its receipts are signed with). */
  router: string;
  sessionId: number;
  taskId: number;
  /** The request's hash, as the router recorded it (hex SHA-256). */
  requestHash: string;
  /** SHA-256 of the output text, hex: the result's precommit hash. */
  outputHash: string;
};

/** The exact text a miner signs (EIP-191 prefixes it with its length when signing). */
export function resultMessage(claim: ResultClaim): string {
  return [
    "cortensor-result:v1",
    `router:${claim.router.toLowerCase()}`,
    `session:${claim.sessionId}`,
    `task:${claim.taskId}`,
    `request:${claim.requestHash.toLowerCase()}`,
    `output:${claim.outputHash.toLowerCase()}`,
  ].join("\n");
}

/** The claim as the request headers that carry it (the output hash is the miner's to compute). */
export function signHeaders(claim: Omit<ResultClaim, "outputHash">): Record<string, string> {
  return {
    [SIGN_HEADERS.router]: claim.router,
    [SIGN_HEADERS.session]: String(claim.sessionId),
    [SIGN_HEADERS.task]: String(claim.taskId),
    [SIGN_HEADERS.requestHash]: claim.requestHash,
  };
}

/** Reads the claim back from request headers (the dev miner's side); undefined when the router asked for no signature. */
export function claimFromHeaders(get: (name: string) => string | undefined | null): Omit<ResultClaim, "outputHash"> | undefined {
  const router = get(SIGN_HEADERS.router);
  const session = get(SIGN_HEADERS.session);
  const task = get(SIGN_HEADERS.task);
  const requestHash = get(SIGN_HEADERS.requestHash);
  if (!router || !session || !task || !requestHash) return undefined;
  return { router, sessionId: Number(session), taskId: Number(task), requestHash };
}

const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;
/** A 65-byte signature as 0x-hex, or undefined for anything else (what a miner sends is not trusted to be one). */
export function asSignature(value: unknown): Hex | undefined {
  return typeof value === "string" && SIGNATURE.test(value) && isHex(value) ? value : undefined;
}

/**
 * Whether `signature` is `address`'s signature of `claim`: every miner's
 * result on the hot path, and the offline verifier's check of each miner.
 * A known address's later signatures are checked against its kept public
 * key rather than recovered (crypto/eip191-check.ts: same answer, a fifth
 * of the CPU); a high-s signature is refused, as the chain's ECDSA refuses it.
 */
export async function isSignedBy(claim: ResultClaim, signature: string, address: string): Promise<boolean> {
  return isEip191SignedBy(resultMessage(claim), signature, address);
}
