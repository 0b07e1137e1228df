/**
 * AES-GCM sealing of small secrets (miner credentials) under a key derived
 * with HKDF from a deployment secret, so the stored value is useless without
 * the secret and no key is ever stored.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function deriveKey(secret: string, purpose: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: encoder.encode("cortensor-edge-router"), info: encoder.encode(purpose) },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

const toB64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const fromB64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** Returns `v1.<iv>.<ciphertext>` (base64). `aad` binds the value to its owner (e.g. the miner id). */
export async function seal(secret: string, purpose: string, plaintext: string, aad: string): Promise<string> {
  const key = await deriveKey(secret, purpose);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(aad) },
    key,
    encoder.encode(plaintext),
  );
  return `v1.${toB64(iv)}.${toB64(new Uint8Array(ct))}`;
}

export async function open(secret: string, purpose: string, sealed: string, aad: string): Promise<string> {
  const [version, iv, ct] = sealed.split(".");
  if (version !== "v1" || !iv || !ct) throw new Error("sealed value has an unknown format");
  const key = await deriveKey(secret, purpose);
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromB64(iv), additionalData: encoder.encode(aad) },
    key,
    fromB64(ct),
  );
  return decoder.decode(pt);
}
