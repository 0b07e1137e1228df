import { binUpperEdge, emptyBucket, LATENCY_BIN_RATIO, type SeriesWindow, type ShardBucket } from "../../durable-objects/session/task-series";
import { servesTasks } from "../../domain/schemas/miner";
import type { DeploymentMetrics, MetricsWindow } from "../../domain/schemas/metrics";
import type { Env } from "../env";
import { registryStub } from "../../domain/objects/stubs";
import { everyShard } from "./session-metrics";

const WINDOWS: Record<MetricsWindow, { bucketMs: number; buckets: number }> = {
  hour: { bucketMs: 60_000, buckets: 60 },
  day: { bucketMs: 15 * 60_000, buckets: 96 },
};

/** The window's buckets end with the one `now` falls in. */
export function seriesWindow(window: MetricsWindow, now: number): SeriesWindow {
  const { bucketMs, buckets } = WINDOWS[window];
  return { bucketMs, buckets, from: (Math.floor(now / bucketMs) - buckets + 1) * bucketMs };
}

/** The latency under which `q` of the histogram's counts fall: the upper edge of the bin that holds that rank. */
export function percentile(histogram: Record<number, number>, q: number): number | null {
  const bins = Object.entries(histogram)
    .map(([bin, n]) => [Number(bin), n] as const)
    .sort((a, b) => a[0] - b[0]);
  const total = bins.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (const [bin, n] of bins) {
    seen += n;
    if (seen >= rank) return binUpperEdge(bin);
  }
  return null;
}

function add(into: ShardBucket, b: ShardBucket) {
  into.tasks += b.tasks;
  into.ended += b.ended;
  into.failed += b.failed;
  into.reached += b.reached;
  into.resultsAgreed += b.resultsAgreed;
  into.resultsDisagreed += b.resultsDisagreed;
  for (const [bin, n] of Object.entries(b.latency)) into.latency[Number(bin)] = (into.latency[Number(bin)] ?? 0) + n;
  for (const [code, n] of Object.entries(b.errors)) into.errors[code] = (into.errors[code] ?? 0) + n;
}

const view = (b: ShardBucket) => ({
  tasks: b.tasks,
  ended: b.ended,
  failed: b.failed,
  reached: b.reached,
  results_agreed: b.resultsAgreed,
  results_disagreed: b.resultsDisagreed,
  p50_ms: percentile(b.latency, 0.5),
  p99_ms: percentile(b.latency, 0.99),
  errors: b.errors,
});

/**
 * The deployment's tasks over the last hour or day, bucketed, summed over
 * every shard of every session (a call per shard, as the NeuroShard metrics
 * are), with the miners' health and the sessions from the registry.
 */
export async function deploymentMetrics(env: Env, window: MetricsWindow, now: number): Promise<DeploymentMetrics> {
  const w = seriesWindow(window, now);
  const registry = registryStub(env);
  const [miners, sessions, shards] = await Promise.all([registry.listMiners(), registry.listSessions({ includeInactive: true }), everyShard(env)]);
  const each = await Promise.all(shards.map((s) => s.stub.taskSeries(w)));
  const buckets = Array.from({ length: w.buckets }, emptyBucket);
  const totals = emptyBucket();
  for (const series of each) {
    if (!series) continue;
    series.buckets.forEach((b, i) => {
      const into = buckets[i];
      if (into) add(into, b);
      add(totals, b);
    });
  }
  const serving = miners.filter(servesTasks).length;
  return {
    window,
    from: new Date(w.from).toISOString(),
    to: new Date(w.from + w.bucketMs * w.buckets).toISOString(),
    bucket_s: w.bucketMs / 1000,
    latency_bin_ratio: LATENCY_BIN_RATIO,
    miners: { total: miners.length, serving, benched: miners.length - serving },
    sessions: { total: sessions.length, active: sessions.filter((s) => s.active).length },
    totals: view(totals),
    buckets: buckets.map((b, i) => ({ start: new Date(w.from + i * w.bucketMs).toISOString(), ...view(b) })),
    errors: Object.entries(totals.errors)
      .map(([code, count]) => ({ code, count }))
      .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)),
  };
}
