import { bytesToHex } from "@noble/hashes/utils";
import { ApiError } from "../errors.ts";
import { decryptPayload, encryptPayload } from "../crypto/payload-keys.ts";
import { backendFor, type Backend } from "./backends.ts";
import { formatUrn, parseUrn, type PayloadUrn } from "./urn.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Where a payload was written. No hash of it: of the three writers only an off-chain delivery answers one, and it hashes the text itself. */
export type StoredPayload = { urn: string; objectKey: string; backendIndex: number; bytes: number };

/**
 * Object keys are namespaced by session and task and end in 128 random bits,
 * so one client cannot guess another's.
 */
export function objectKeyFor(sessionId: number, taskId: number, role: string): string {
  const random = bytesToHex(crypto.getRandomValues(new Uint8Array(16)));
  return `s${sessionId}/t${taskId}/${role}-${random}`;
}

/**
 * Whether a text's UTF-8 encoding can exceed `max` bytes: a UTF-16 code unit
 * is at most 3 UTF-8 bytes (a surrogate pair, two units, is 4), so a text of
 * at most max/3 units is within it without encoding it.
 */
export function mayExceed(text: string, max: number): boolean {
  return text.length * 3 > max && encoder.encode(text).byteLength > max;
}

/** Which task an object key belongs to (keys this store wrote); null otherwise. */
export function taskOfObjectKey(key: string): { sessionId: number; taskId: number } | null {
  const m = /^s(\d{1,15})\/t(\d{1,15})\/[a-z]+(?:-\d+)?-[0-9a-f]{32}$/.exec(key);
  return m ? { sessionId: Number(m[1]), taskId: Number(m[2]) } : null;
}

export const payloadTooLarge = (max: number) => new ApiError(413, "payload_too_large", `payload exceeds ${max} bytes`);

/**
 * Writes text as a payload. With `key`, only AES-GCM ciphertext reaches R2.
 * `objectKey`: a key chosen ahead (`objectKeyFor`'s, whose retention row was
 * written before this write); a new one otherwise.
 */
export async function putPayload(
  backend: Backend,
  input: { version: "v2" | "v3"; sessionId: number; taskId: number; role: string; text: string; key?: Uint8Array; maxBytes: number; objectKey?: string },
): Promise<StoredPayload> {
  const plain = encoder.encode(input.text);
  if (plain.byteLength > input.maxBytes) throw payloadTooLarge(input.maxBytes);
  const objectKey = input.objectKey ?? objectKeyFor(input.sessionId, input.taskId, input.role);
  const body = input.key ? await encryptPayload(input.key, plain, objectKey) : plain;
  await backend.r2.put(objectKey, body, {
    httpMetadata: { contentType: input.key ? "application/octet-stream" : "text/plain; charset=utf-8" },
    customMetadata: { encryption: input.key ? "aes-256-gcm" : "none", session: String(input.sessionId), task: String(input.taskId) },
  });
  const urn: PayloadUrn = {
    version: input.version,
    store: "r2",
    provider: null,
    backendIndex: input.version === "v3" ? backend.index : null,
    bucket: backend.bucket,
    fileName: objectKey,
  };
  return { urn: formatUrn(urn), objectKey, backendIndex: backend.index, bytes: plain.byteLength };
}

/** Reads a payload by URN, decrypting with `key` when it was stored encrypted. */
export async function getPayload(backends: readonly Backend[], urn: string, key?: Uint8Array): Promise<string> {
  const parsed = parseUrn(urn);
  const backend = backendFor(parsed, backends);
  const object = await backend.r2.get(parsed.fileName);
  if (!object) throw new ApiError(404, "payload_not_found", "no payload at that URN");
  const bytes = new Uint8Array(await object.arrayBuffer());
  if (object.customMetadata?.["encryption"] === "aes-256-gcm") {
    if (!key) throw new ApiError(403, "private_payload_denied", "payload is encrypted");
    return decoder.decode(await decryptPayload(key, bytes, parsed.fileName));
  }
  return decoder.decode(bytes);
}
