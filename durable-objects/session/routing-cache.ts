import type { Routing } from "../../domain/sessions/shard-layout";

/**
 * How long an isolate routes a session's calls by the settings version it
 * read from the session's own object. Correctness does not rest on it: every
 * shard refuses a call routed by a version other than its own
 * (`stale_routing`), and the Worker then reads the routing again. It bounds
 * how long a shard that missed a settings push (and is sent nothing newer)
 * keeps running tasks on the settings before.
 */
export const ROUTING_TTL_MS = 5_000;
/** Bounds the isolate's memory; the oldest entry goes first. */
const MAX_ENTRIES = 10_000;

const entries = new Map<number, { routing: Routing; fetchedAt: number }>();

export function cachedRouting(sessionId: number, now = Date.now()): Routing | undefined {
  const entry = entries.get(sessionId);
  return entry && now - entry.fetchedAt < ROUTING_TTL_MS ? entry.routing : undefined;
}

export function rememberRouting(sessionId: number, routing: Routing, now = Date.now()): void {
  entries.delete(sessionId);
  entries.set(sessionId, { routing, fetchedAt: now });
  if (entries.size > MAX_ENTRIES) {
    const oldest = entries.keys().next();
    if (!oldest.done) entries.delete(oldest.value);
  }
}

export function forgetRouting(sessionId: number): void {
  entries.delete(sessionId);
}
