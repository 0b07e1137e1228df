/**
 * Sealing of small secrets (miner credentials) under a key derived from a
 * deployment secret, so the stored value is useless without the secret and
 * no key is ever stored.
 */
import { decodeBase64, encodeBase64 } from "hono/utils/encode";
import { decrypt, encrypt } from "./aead.ts";
import { deriveKey } from "./hkdf.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const SALT = "cortensor-edge-router";
const IV_BYTES = 12;

/** Returns `v1.<iv>.<ciphertext>` (base64). `aad` binds the value to its owner (e.g. the miner id). */
export async function seal(secret: string, purpose: string, plaintext: string, aad: string): Promise<string> {
  const sealed = await encrypt(await deriveKey(secret, SALT, purpose), encoder.encode(plaintext), aad);
  return `v1.${encodeBase64(sealed.slice(0, IV_BYTES).buffer)}.${encodeBase64(sealed.slice(IV_BYTES).buffer)}`;
}

export async function open(secret: string, purpose: string, sealed: string, aad: string): Promise<string> {
  const [version, iv, ct, ...rest] = sealed.split(".");
  if (version !== "v1" || !iv || !ct || rest.length > 0) throw new Error("sealed value has an unknown format");
  const ivBytes = decodeBase64(iv);
  if (ivBytes.byteLength !== IV_BYTES) throw new Error("sealed value has an unknown format");
  const ctBytes = decodeBase64(ct);
  const joined = new Uint8Array(IV_BYTES + ctBytes.byteLength);
  joined.set(ivBytes);
  joined.set(ctBytes, IV_BYTES);
  return decoder.decode(await decrypt(await deriveKey(secret, SALT, purpose), joined, aad));
}
