import { sha256Hex } from "../crypto/sha256.ts";
import type { CompletionRequest } from "../schemas/completion.ts";

/** Identity of a request for idempotency: everything that changes the work, not how it is delivered. */
export async function requestFingerprint(sessionId: number, request: CompletionRequest, flow: string): Promise<string> {
  const { stream: _stream, session_id: _session, request_id: _id, ...work } = request;
  const ordered = Object.fromEntries(Object.entries(work).sort(([a], [b]) => a.localeCompare(b)));
  return sha256Hex(JSON.stringify([sessionId, flow, ordered]));
}
