import { sha256 } from "@noble/hashes/sha2";

const encoder = new TextEncoder();

/**
 * SHA-256 of a secret, in JavaScript and at once: a token is short, and the
 * runtime's `crypto.subtle.digest` costs a promise and a turn a request for it.
 */
const digest = (text: string): Uint8Array => sha256(encoder.encode(text));

/**
 * Compares two secrets in time independent of where they differ. Both sides
 * are hashed first so that unequal lengths leak nothing either.
 */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  return crypto.subtle.timingSafeEqual(digest(a), digest(b));
}

/**
 * The configured keys' digests, kept per isolate: a request compared its
 * token with every key, hashing each key again (two digests a key, a request).
 * Keyed by the key itself, so a changed configuration hashes its new keys;
 * cleared when full. Whether a key's digest was kept says nothing about the
 * candidate, so the comparison stays independent of it.
 */
const keyDigests = new Map<string, Uint8Array>();
const MAX_KEY_DIGESTS = 256;

function keyDigest(key: string): Uint8Array {
  let known = keyDigests.get(key);
  if (!known) {
    if (keyDigests.size >= MAX_KEY_DIGESTS) keyDigests.clear();
    known = digest(key);
    keyDigests.set(key, known);
  }
  return known;
}

/** True when `candidate` equals any of `keys`; every key is compared (the candidate hashed once). */
export async function matchesAnyKey(candidate: string, keys: readonly string[]): Promise<boolean> {
  const hc = digest(candidate);
  let found = false;
  for (const key of keys) {
    if (crypto.subtle.timingSafeEqual(hc, keyDigest(key))) found = true;
  }
  return found;
}
