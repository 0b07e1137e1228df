/**
 * Keys of private sessions' payloads, derived, never stored:
 *
 *   session key = HKDF-SHA256(PAYLOAD_MASTER_KEY, salt "cortensor-payload-keys", info "session:{sessionId}")
 *   task key    = HKDF-SHA256(session key,        salt "cortensor-payload-keys", info "task:{taskId}")
 *
 * so the holder of a session key can derive every task key of that session,
 * and the holder of a task key can read that task's payloads only. Payloads
 * are AES-256-GCM: 12-byte IV, then ciphertext and tag; the object key is the
 * associated data, so a ciphertext cannot be moved to another object.
 */
const encoder = new TextEncoder();
const SALT = encoder.encode("cortensor-payload-keys");

async function hkdf(secret: Uint8Array, info: string): Promise<Uint8Array> {
  const material = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: SALT, info: encoder.encode(info) }, material, 256);
  return new Uint8Array(bits);
}

export const sessionKey = (master: string, sessionId: number) => hkdf(encoder.encode(master), `session:${sessionId}`);

export async function taskKey(master: string, sessionId: number, taskId: number): Promise<Uint8Array> {
  return hkdf(await sessionKey(master, sessionId), `task:${taskId}`);
}

const aesKey = (raw: Uint8Array, usage: "encrypt" | "decrypt") => crypto.subtle.importKey("raw", raw, "AES-GCM", false, [usage]);

export async function encryptPayload(key: Uint8Array, plaintext: Uint8Array, aad: string): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(aad) }, await aesKey(key, "encrypt"), plaintext),
  );
  const out = new Uint8Array(iv.length + ct.length);
  out.set(iv);
  out.set(ct, iv.length);
  return out;
}

export async function decryptPayload(key: Uint8Array, sealed: Uint8Array, aad: string): Promise<Uint8Array> {
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: sealed.slice(0, 12), additionalData: encoder.encode(aad) },
    await aesKey(key, "decrypt"),
    sealed.slice(12),
  );
  return new Uint8Array(pt);
}

export const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
export const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
