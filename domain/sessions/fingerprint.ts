import { sha256Hex } from "../crypto/sha256.ts";
import type { CompletionRequest } from "../schemas/completion.ts";

/** Keys of lowercase letters and '_' (every field of a completion request) sort the same by code unit as by `localeCompare`. */
const PLAIN_KEY = /^[a-z_]+$/;
const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byLocale = (a: string, b: string) => a.localeCompare(b);

/** Identity of a request for idempotency: everything that changes the work, not how it is delivered. */
export async function requestFingerprint(sessionId: number, request: CompletionRequest, flow: string): Promise<string> {
  const { stream: _stream, session_id: _session, request_id: _id, ...work } = request;
  // Ordered by `localeCompare`, as stored fingerprints were; by code unit where that is the same order (it is cheaper).
  const keys = Object.keys(work);
  const order = keys.every((k) => PLAIN_KEY.test(k)) ? byCodeUnit : byLocale;
  const ordered: Record<string, unknown> = {};
  for (const key of keys.sort(order)) ordered[key] = work[key as keyof typeof work];
  return sha256Hex(JSON.stringify([sessionId, flow, ordered]));
}
