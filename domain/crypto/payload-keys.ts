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
import { decrypt, encrypt } from "./aead.ts";
import { deriveKey } from "./hkdf.ts";

const SALT = "cortensor-payload-keys";

export const sessionKey = (master: string, sessionId: number) => deriveKey(master, SALT, `session:${sessionId}`);

export async function taskKey(master: string, sessionId: number, taskId: number): Promise<Uint8Array<ArrayBuffer>> {
  return deriveKey(await sessionKey(master, sessionId), SALT, `task:${taskId}`);
}

/** The payload format clients decrypt with the key route's key: do not change it. */
export const encryptPayload = encrypt;
export const decryptPayload = decrypt;
