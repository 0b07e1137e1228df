/**
 * What this isolate has seen of remote routers: a moving average of latency
 * and recent failures. Routers are tried healthy first, fastest first.
 * (Per isolate and in memory: a hint for ordering, nothing that must last.)
 */
type Health = { latencyMs: number; failures: number; lastFailureAt: number };
const seen = new Map<string, Health>();
const PENALTY_MS = 30_000;

export function orderRouters<T extends { url: string }>(routers: readonly T[], now = Date.now()): T[] {
  const score = (r: T) => {
    const h = seen.get(r.url);
    if (!h) return 0;
    const penalised = h.failures > 0 && now - h.lastFailureAt < PENALTY_MS ? 1_000_000 * h.failures : 0;
    return penalised + h.latencyMs;
  };
  return [...routers]
    .map((r, i) => ({ r, i, s: score(r) }))
    .sort((a, b) => a.s - b.s || a.i - b.i)
    .map((x) => x.r);
}

export function recordSuccess(url: string, latencyMs: number) {
  const h = seen.get(url);
  seen.set(url, { latencyMs: h ? h.latencyMs * 0.8 + latencyMs * 0.2 : latencyMs, failures: 0, lastFailureAt: h?.lastFailureAt ?? 0 });
}

export function recordFailure(url: string, now = Date.now()) {
  const h = seen.get(url);
  seen.set(url, { latencyMs: h?.latencyMs ?? 0, failures: (h?.failures ?? 0) + 1, lastFailureAt: now });
}
