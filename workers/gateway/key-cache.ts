import type { KeyState } from "./key-state";

/**
 * How long an isolate trusts a key's state read from the Ledger. Within it a
 * request makes no Ledger call before dispatch; a key revoked or rotated in
 * another isolate still works here until it passes (the isolate that served
 * the admin call forgets the customer's keys at once), and each request's
 * billing brings a fresher state back.
 */
export const KEY_CACHE_TTL_MS = 10_000;
/** Bounds the isolate's memory; the oldest entry goes first. */
const MAX_ENTRIES = 10_000;

/** A key's cached state, and what this isolate's admitted but unbilled requests may still cost. */
export type CachedKey = { hash: string; state: KeyState; fetchedAt: number; pendingMicros: number };

const entries = new Map<string, CachedKey>();

/** The key's cached state if still fresh. */
export function cachedKey(hash: string, now = Date.now()): CachedKey | undefined {
  const entry = entries.get(hash);
  return entry && now - entry.fetchedAt < KEY_CACHE_TTL_MS ? entry : undefined;
}

/**
 * Keeps a state read from the Ledger. Reservations carry over; a state older
 * than the one held (a lower usage version) is ignored, so a slow answer
 * never brings back a charge-less view.
 */
export function rememberKey(hash: string, state: KeyState, now = Date.now()): CachedKey {
  const held = entries.get(hash);
  if (held) {
    if (state.version >= held.state.version) Object.assign(held, { state, fetchedAt: now });
    return held;
  }
  if (entries.size >= MAX_ENTRIES) {
    const oldest = entries.keys().next();
    if (!oldest.done) entries.delete(oldest.value);
  }
  const entry = { hash, state, fetchedAt: now, pendingMicros: 0 };
  entries.set(hash, entry);
  return entry;
}

/** Forgets one key (revoked, unknown, or its billing failed and the Ledger must be asked again). */
export function forgetKey(hash: string): void {
  entries.delete(hash);
}

/** Forgets every key of a customer: an admin change (rotation, revocation, credit) is seen at once here. */
export function forgetCustomer(customerId: string): void {
  for (const [hash, entry] of entries) if (entry.state.key.customerId === customerId) entries.delete(hash);
}
