const encoder = new TextEncoder();

const digest = (text: string) => crypto.subtle.digest("SHA-256", encoder.encode(text));

/**
 * Compares two secrets in time independent of where they differ. Both sides
 * are hashed first so that unequal lengths leak nothing either.
 */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([digest(a), digest(b)]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}

/**
 * The configured keys' digests, kept per isolate: a request compared its
 * token with every key, hashing each key again (two digests a key, a request).
 * Keyed by the key itself, so a changed configuration hashes its new keys;
 * cleared when full. Whether a key's digest was kept says nothing about the
 * candidate, so the comparison stays independent of it.
 */
const keyDigests = new Map<string, Promise<ArrayBuffer>>();
const MAX_KEY_DIGESTS = 256;

function keyDigest(key: string): Promise<ArrayBuffer> {
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
  const hc = await digest(candidate);
  let found = false;
  for (const key of keys) {
    if (crypto.subtle.timingSafeEqual(hc, await keyDigest(key))) found = true;
  }
  return found;
}
