/**
 * When this isolate started: the only uptime a Worker has (the NeuroShard
 * node's `uptime_seconds`). Recorded as the module loads; where the clock
 * does not run at load (deployed workerd reads the epoch, 0, outside a
 * request), at the isolate's first event of any kind (index.ts marks each),
 * the nearest the isolate can know.
 */
const loadedAt = Date.now();
let startedAt: number | undefined = loadedAt > 0 ? loadedAt : undefined;

/** Called as every event (a request, a cron tick) reaches the isolate: the first one stands in for a clock that did not run at load. */
export function markIsolateEvent(now = Date.now()): void {
  if (now > 0) startedAt ??= now;
}

/** Milliseconds since this isolate started. */
export function isolateUptimeMs(now = Date.now()): number {
  markIsolateEvent(now);
  return Math.max(0, now - (startedAt ?? now));
}
