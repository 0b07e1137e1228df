import type { KeyState } from "../../domain/gateway/key-state";

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

/**
 * How long a reservation counts at most: the longest a task may run
 * (`MAX_TIMEOUT_S` is at most an hour). A request whose billing never runs
 * (a stream the client abandoned) stops holding its worst case then.
 */
export const RESERVATION_MAX_MS = 3_600_000;

/** A key's cached state, and what this isolate's admitted but unbilled requests may still cost. */
export type CachedKey = { hash: string; state: KeyState; fetchedAt: number; reservations: Map<number, { micros: number; until: number }> };

let nextReservation = 0;

/** Holds a request's worst-case cost against the key until `release`. */
export function reserve(entry: CachedKey, micros: number, now = Date.now()): number {
  const id = nextReservation++;
  entry.reservations.set(id, { micros, until: now + RESERVATION_MAX_MS });
  return id;
}

export function release(entry: CachedKey, reservation: number): void {
  entry.reservations.delete(reservation);
}

/** What the key's admitted but unbilled requests in this isolate may still cost (expired reservations dropped). */
export function pendingMicros(entry: CachedKey, now = Date.now()): number {
  let sum = 0;
  for (const [id, r] of entry.reservations) {
    if (now >= r.until) entry.reservations.delete(id);
    else sum += r.micros;
  }
  return sum;
}

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
    // A forgotten state is replaced by whatever the Ledger says now.
    if (held.fetchedAt === Number.NEGATIVE_INFINITY || state.version >= held.state.version) Object.assign(held, { state, fetchedAt: now });
    return held;
  }
  if (entries.size >= MAX_ENTRIES) {
    const oldest = entries.keys().next();
    if (!oldest.done) entries.delete(oldest.value);
  }
  const entry: CachedKey = { hash, state, fetchedAt: now, reservations: new Map() };
  entries.set(hash, entry);
  return entry;
}

/**
 * Forgets one key's state (revoked, unknown, or its billing failed and the
 * Ledger must be asked again); its reservations stay, for the state read next.
 */
export function forgetKey(hash: string): void {
  const entry = entries.get(hash);
  if (entry) entry.fetchedAt = Number.NEGATIVE_INFINITY;
}

/** Forgets the state of every key of a customer: an admin change (rotation, revocation, credit) is seen at once here. */
export function forgetCustomer(customerId: string): void {
  for (const entry of entries.values()) if (entry.state.key.customerId === customerId) entry.fetchedAt = Number.NEGATIVE_INFINITY;
}
