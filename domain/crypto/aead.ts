const encoder = new TextEncoder();
const IV_BYTES = 12;

const aesKey = (raw: Uint8Array, usage: "encrypt" | "decrypt") => crypto.subtle.importKey("raw", raw, "AES-GCM", false, [usage]);

/**
 * AES-256-GCM with a fresh random IV. The result is the 12-byte IV, then the
 * ciphertext and its tag; `aad` is authenticated but not stored, so the
 * sealed bytes only open for the owner they were bound to.
 */
export async function encrypt(key: Uint8Array, plaintext: Uint8Array, aad: string): Promise<Uint8Array<ArrayBuffer>> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(aad) }, await aesKey(key, "encrypt"), plaintext);
  const out = new Uint8Array(IV_BYTES + ct.byteLength);
  out.set(iv);
  out.set(new Uint8Array(ct), IV_BYTES);
  return out;
}

/** Opens what `encrypt` sealed; throws when the key, the bytes or `aad` differ. */
export async function decrypt(key: Uint8Array, sealed: Uint8Array, aad: string): Promise<Uint8Array<ArrayBuffer>> {
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: sealed.subarray(0, IV_BYTES), additionalData: encoder.encode(aad) },
    await aesKey(key, "decrypt"),
    sealed.subarray(IV_BYTES),
  );
  return new Uint8Array(pt);
}
