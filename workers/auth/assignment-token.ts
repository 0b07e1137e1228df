/**
 * Capability tokens a miner gets with each assignment: they let that miner,
 * and no other, read the task's payload and deliver its result, until the
 * task's deadline. HMAC-SHA256 under a key derived from PAYLOAD_MASTER_KEY.
 */
import { z } from "zod";

const encoder = new TextEncoder();
const ClaimsSchema = z.object({ s: z.number().int(), t: z.number().int(), m: z.string(), exp: z.number().int() });
export type AssignmentClaims = z.infer<typeof ClaimsSchema>;

const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const unb64url = (text: string) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

async function hmacKey(master: string) {
  const material = await crypto.subtle.importKey("raw", encoder.encode(master), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: encoder.encode("cortensor-edge-router"), info: encoder.encode("assignment-token/v1") },
    material,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

export async function issueAssignmentToken(master: string, claims: AssignmentClaims): Promise<string> {
  const body = b64url(encoder.encode(JSON.stringify(claims)));
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(master), encoder.encode(body)));
  return `at1.${body}.${b64url(sig)}`;
}

/** The claims of a valid, unexpired token; null for anything else. */
export async function verifyAssignmentToken(master: string, token: string, now = Date.now()): Promise<AssignmentClaims | null> {
  const [version, body, sig] = token.split(".");
  if (version !== "at1" || !body || !sig) return null;
  try {
    const ok = await crypto.subtle.verify("HMAC", await hmacKey(master), unb64url(sig), encoder.encode(body));
    if (!ok) return null;
    const claims = ClaimsSchema.safeParse(JSON.parse(new TextDecoder().decode(unb64url(body))));
    if (!claims.success || claims.data.exp < now) return null;
    return claims.data;
  } catch {
    return null;
  }
}
