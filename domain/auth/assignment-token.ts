/**
 * Capability tokens a miner gets with each assignment: they let that miner,
 * and no other, read the task's payload and deliver its result, until the
 * task's deadline. JWTs, HS256 under a key derived from PAYLOAD_MASTER_KEY.
 */
import { sign, verify } from "hono/jwt";
import { z } from "zod";
import { deriveKey } from "../crypto/hkdf.ts";

/** `exp` is the task deadline in milliseconds, as the Session object keeps it. */
const ClaimsSchema = z.object({ s: z.number().int(), t: z.number().int(), m: z.string(), exp: z.number().int() });
export type AssignmentClaims = z.infer<typeof ClaimsSchema>;

async function tokenKey(master: string): Promise<CryptoKey> {
  const raw = await deriveKey(master, "cortensor-edge-router", "assignment-token/v1");
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

export async function issueAssignmentToken(master: string, claims: AssignmentClaims): Promise<string> {
  // JWT `exp` counts seconds: rounding up keeps the token good until the deadline itself.
  return sign({ ...claims, exp: Math.ceil(claims.exp / 1000) }, await tokenKey(master), "HS256");
}

/**
 * The claims of a valid, unexpired token (exp back in milliseconds, to the
 * second); null for anything else.
 */
export async function verifyAssignmentToken(master: string, token: string): Promise<AssignmentClaims | null> {
  let payload: unknown;
  try {
    payload = await verify(token, await tokenKey(master), "HS256");
  } catch {
    return null;
  }
  const claims = ClaimsSchema.safeParse(payload);
  return claims.success ? { ...claims.data, exp: claims.data.exp * 1000 } : null;
}
