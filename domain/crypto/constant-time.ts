const encoder = new TextEncoder();

/**
 * Compares two secrets in time independent of where they differ. Both sides
 * are hashed first so that unequal lengths leak nothing either.
 */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([crypto.subtle.digest("SHA-256", encoder.encode(a)), crypto.subtle.digest("SHA-256", encoder.encode(b))]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}

/** True when `candidate` equals any of `keys`; every key is compared. */
export async function matchesAnyKey(candidate: string, keys: readonly string[]): Promise<boolean> {
  let found = false;
  for (const key of keys) {
    if (await constantTimeEqual(candidate, key)) found = true;
  }
  return found;
}
