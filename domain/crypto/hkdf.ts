const encoder = new TextEncoder();

/**
 * HKDF-SHA256, 256 bits. Every key the router uses is derived from a
 * deployment secret this way and never stored; `salt` and `info` name the
 * purpose and must not change, or data sealed under the old key is lost.
 */
export async function deriveKey(master: string | Uint8Array, salt: string, info: string): Promise<Uint8Array<ArrayBuffer>> {
  const secret = typeof master === "string" ? encoder.encode(master) : master;
  const material = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: encoder.encode(salt), info: encoder.encode(info) }, material, 256);
  return new Uint8Array(bits);
}
