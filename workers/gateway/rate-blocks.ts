import type { BlockDecision } from "../../durable-objects/quota";
import { ApiError } from "../../domain/errors";

/**
 * Requests a key may still make from this isolate without asking its Quota
 * object: blocks taken there (`reserveBlock`, counted there at once, so a
 * key never passes its request limit), spent here until the window they were
 * taken from ends. What an isolate holds unspent is lost to the key for the
 * rest of that window.
 */
const held = new Map<string, { left: number; endsAt: number }>();
const MAX_ENTRIES = 10_000;

/** A key's block: a twentieth of its per-minute request limit, at least 1 (a small limit is checked at the Quota every time). */
export const blockSize = (requestsPerMinute: number) => Math.max(1, Math.floor(requestsPerMinute / 20));

/** Spends one request this isolate holds for the key; false when it holds none (ask the Quota object). */
export function takeHeld(keyId: string, now = Date.now()): boolean {
  const h = held.get(keyId);
  if (!h || now >= h.endsAt || h.left <= 0) return false;
  h.left -= 1;
  return true;
}

/** Keeps what a reservation granted beyond the request that asked for it. */
export function keepGranted(keyId: string, decision: Extract<BlockDecision, { ok: true }>): void {
  if (decision.granted <= 1) return;
  if (held.size >= MAX_ENTRIES && !held.has(keyId)) {
    const oldest = held.keys().next();
    if (!oldest.done) held.delete(oldest.value);
  }
  const h = held.get(keyId);
  // Blocks of the same window add up; a new window replaces what is left of the old one.
  if (h && h.endsAt === decision.windowEndsAt) h.left += decision.granted - 1;
  else held.set(keyId, { left: decision.granted - 1, endsAt: decision.windowEndsAt });
}

/** A key's rate limit refused by its Quota object: 429 naming the rule, with Retry-After. */
export function rateLimited(decision: Extract<BlockDecision, { ok: false }>): ApiError {
  return new ApiError(
    429,
    "rate_limited",
    `rate limit reached (${decision.rule} per minute: ${decision.limit})`,
    { retry_after: decision.retryAfterS, limit: decision.rule },
    { "Retry-After": String(decision.retryAfterS) },
  );
}
