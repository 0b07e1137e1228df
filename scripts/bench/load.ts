/**
 * The load generator: a count of requests or a stretch of time, sequentially
 * or over a number of connections, each request bounded in time; failures
 * (non-2xx, network errors, timeouts) are counted, never retried. And the
 * warm-up: load in windows until two windows in a row agree.
 */
export type Send = (i: number, signal: AbortSignal) => Promise<Response>;
export type Run = { latencies: number[]; failures: number; seconds: number; firstFailure?: string };
export type Stats = { requests: number; failures: number; p50: number; p99: number; mean: number; rps: number };

/** How long one request may take before it counts as failed. */
const REQUEST_TIMEOUT_MS = 30_000;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
export const round = (x: number) => Math.round(x * 100) / 100;
/** The middle value (the upper of the two middle ones for an even count); NaN for none. */
export const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

export function stats(run: Run): Stats {
  const sorted = [...run.latencies].sort((a, b) => a - b);
  return {
    requests: sorted.length + run.failures,
    failures: run.failures,
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    mean: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)),
    rps: round(sorted.length / run.seconds),
  };
}

async function once(send: Send, i: number, run: Run): Promise<void> {
  const t0 = performance.now();
  try {
    const res = await send(i, AbortSignal.timeout(REQUEST_TIMEOUT_MS));
    const body = await res.text();
    if (res.ok) run.latencies.push(performance.now() - t0);
    else {
      run.failures++;
      run.firstFailure ??= `${res.status} ${body.slice(0, 200)}`;
    }
  } catch (err) {
    run.failures++;
    run.firstFailure ??= err instanceof Error ? err.message : String(err);
  }
}

/** `count` requests over `connections` concurrent loops; stops early at `maxSeconds`. */
export async function load(send: Send, count: number, connections: number, maxSeconds = 120): Promise<Run> {
  const run: Run = { latencies: [], failures: 0, seconds: 0 };
  const deadline = performance.now() + maxSeconds * 1000;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < count && performance.now() < deadline) await once(send, next++, run);
    }),
  );
  run.seconds = (performance.now() - started) / 1000;
  return run;
}

/** As many requests as `seconds` allows over `connections` loops (those in flight at the end finish). */
export const loadFor = (send: Send, seconds: number, connections: number): Promise<Run> => load(send, Number.POSITIVE_INFINITY, connections, seconds);

/** A short warm-up of `count` sequential requests (connections, isolates, Durable Objects). Failures here count too. */
export const warm = (send: Send, count = 20) => load((i, signal) => send(-1 - i, signal), count, 1, 60);

export type Warmed = {
  /** Seconds of load it took. */
  seconds: number;
  /** Whether two windows in a row agreed before the cap. */
  settled: boolean;
  /** Each window's requests a second. */
  windows: number[];
  failures: number;
  firstFailure?: string;
};

/** Two windows' req/s agree when they differ by at most `tolerance` of the larger (and both carried requests). */
export const steady = (a: number, b: number, tolerance: number) => a > 0 && b > 0 && Math.abs(a - b) <= tolerance * Math.max(a, b);

/**
 * Warms a target until its figures are steady: load over `connections` in
 * windows of `windowSeconds`, until two windows in a row agree within
 * `tolerance` (a Node peer's JIT, workerd's isolates and objects, pooled
 * connections all settle), or until `maxSeconds` of load, whichever comes first
 * (no window starts after the cap, so the last may end up to a window past it).
 */
export async function warmUntilSteady(send: Send, options: { connections: number; windowSeconds: number; tolerance: number; maxSeconds: number }): Promise<Warmed> {
  const warmed: Warmed = { seconds: 0, settled: false, windows: [], failures: 0 };
  const started = performance.now();
  let offset = 0;
  do {
    const base = offset;
    const run = await loadFor((i, signal) => send(-1 - base - i, signal), options.windowSeconds, options.connections);
    offset += run.latencies.length + run.failures;
    warmed.windows.push(round(run.latencies.length / run.seconds));
    warmed.failures += run.failures;
    if (run.firstFailure) warmed.firstFailure ??= run.firstFailure;
    const [previous, last] = warmed.windows.slice(-2);
    warmed.settled = previous !== undefined && last !== undefined && steady(previous, last, options.tolerance);
    warmed.seconds = round((performance.now() - started) / 1000);
  } while (!warmed.settled && warmed.seconds < options.maxSeconds);
  return warmed;
}

/**
 * Time to the first streamed bytes of a body (the first token's event), over
 * `count` sequential requests.
 */
export async function firstByte(send: Send, count: number, maxSeconds = 60): Promise<Run> {
  const run: Run = { latencies: [], failures: 0, seconds: 0 };
  const deadline = performance.now() + maxSeconds * 1000;
  const started = performance.now();
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    const t0 = performance.now();
    try {
      const res = await send(i, AbortSignal.timeout(REQUEST_TIMEOUT_MS));
      if (!res.ok || !res.body) {
        run.failures++;
        run.firstFailure ??= `${res.status} ${(await res.text()).slice(0, 200)}`;
        continue;
      }
      const reader = res.body.getReader();
      const first = await reader.read();
      const at = performance.now() - t0;
      for (let guard = 0; guard < 100_000 && !(await reader.read()).done; guard++);
      if (first.done) {
        run.failures++;
        run.firstFailure ??= "empty stream";
      } else run.latencies.push(at);
    } catch (err) {
      run.failures++;
      run.firstFailure ??= err instanceof Error ? err.message : String(err);
    }
  }
  run.seconds = (performance.now() - started) / 1000;
  return run;
}
