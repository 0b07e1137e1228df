/**
 * How the dev miner signs its results (EIP-191, the text of
 * domain/miners/result-signature.ts), and how it can be told to sign
 * wrongly for tests: with another key, or over another output.
 */
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { concat, keccak256, stringToBytes, stringToHex } from "viem";
import { claimFromHeaders } from "../../domain/miners/result-signature.ts";
import { signResultText } from "../../miner-node/result-signer.ts";

/**
 * right: signs its own result; other-key: signs with a key not its registered one; other-output: signs another text;
 * other-task: signs its result as if for the next task (a signature replayed across tasks); none: never signs.
 */
export type SignAs = "right" | "other-key" | "other-output" | "other-task" | "none";
export const SIGN_AS: readonly SignAs[] = ["right", "other-key", "other-output", "other-task", "none"];

/**
 * A DEV-ONLY key derived from a public label: keccak256("cortensor dev-only miner key: {label}").
 * Anyone can derive it, so it signs nothing of value; `npm run dev` and the tests give their dev miners these.
 */
export const devMinerKey = (label: string): Hex => keccak256(stringToBytes(`cortensor dev-only miner key: ${label}`));

/**
 * One dev miner may serve several registrations, each its own signer: a
 * bearer `<token>~<identity>` is the miner's token naming an identity, and
 * the miner signs that request's result with `identityKey(its key, identity)`.
 * The tests register a fleet miner under a fresh identity each time, since a
 * signer address is one miner's across the registry.
 */
export const identityKey = (key: Hex, identity: string): Hex => keccak256(concat([key, stringToHex(`identity: ${identity}`)]));

/** The identity an authorization header names after `token` ("" for the bare token); undefined when it is not the token. */
export function bearerIdentity(authorization: string | undefined, token: string): string | undefined {
  if (authorization === `Bearer ${token}`) return "";
  const prefix = `Bearer ${token}~`;
  return authorization?.startsWith(prefix) && authorization.length > prefix.length ? authorization.slice(prefix.length) : undefined;
}

/** The key a request's result is signed with: the identity's key when the bearer names one. */
export function signerKeyFor(key: Hex | undefined, token: string | undefined, authorization: string | undefined): Hex | undefined {
  const identity = key && token ? bearerIdentity(authorization, token) : undefined;
  return key && identity ? identityKey(key, identity) : key;
}

/**
 * A registration's `address_proof`: the key's EIP-191 signature over a
 * router's challenge (POST /api/v1/admin/miners/challenge, asked for the
 * miner's URL and this key's address).
 */
export async function registrationProof(key: Hex, challenge: { nonce: string; message: string }): Promise<{ nonce: string; signature: Hex }> {
  return { nonce: challenge.nonce, signature: await account(key).signMessage({ message: challenge.message }) };
}

const accounts = new Map<Hex, ReturnType<typeof privateKeyToAccount>>();
/** Deriving an account costs a curve multiplication: once per key, not per result. */
function account(key: Hex) {
  let found = accounts.get(key);
  if (!found) {
    found = privateKeyToAccount(key);
    accounts.set(key, found);
  }
  return found;
}

/** The signature for a result, when the router asked for one (its headers) and the miner has a key. */
export async function signResult(key: Hex | undefined, signAs: SignAs, header: (name: string) => string | undefined, text: string): Promise<Hex | undefined> {
  const claim = claimFromHeaders(header);
  if (!key || !claim || signAs === "none") return undefined;
  const signer = account(signAs === "other-key" ? keccak256(key) : key);
  const signed = signAs === "other-output" ? `${text} (not what was sent)` : text;
  const taskId = signAs === "other-task" ? claim.taskId + 1 : claim.taskId;
  return signResultText(signer, { ...claim, taskId }, signed);
}
