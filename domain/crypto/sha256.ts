import { sha256 } from "@noble/hashes/sha2";
import { bytesToHex } from "@noble/hashes/utils";

const encoder = new TextEncoder();

/**
 * Inputs up to this many bytes are hashed in JavaScript (@noble/hashes), at
 * once: a task hashes a few short texts (its fingerprint, a caller's
 * namespace, each output), and `crypto.subtle.digest`'s promise costs more
 * than such a hash (a few µs in JavaScript). Longer inputs (payloads) go to
 * the runtime's native digest, faster per byte. The digest is the same.
 */
const INLINE_MAX_BYTES = 1024;

export async function sha256Hex(input: string | Uint8Array): Promise<string> {
  const bytes = typeof input === "string" ? encoder.encode(input) : input;
  if (bytes.length <= INLINE_MAX_BYTES) return bytesToHex(sha256(bytes));
  return bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}
