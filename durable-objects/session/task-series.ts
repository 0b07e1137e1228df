import type { Sql } from "../sqlite-object";

/**
 * One shard's tasks over a time window, by bucket of creation time, read
 * from its tables when asked (like task-metrics.ts: nothing is counted on a
 * task's path). Latencies go into a log-scale histogram so that shards'
 * figures add up and a percentile can be read from the sum.
 */
export type SeriesWindow = { from: number; bucketMs: number; buckets: number };

export type ShardBucket = {
  tasks: number;
  ended: number;
  failed: number;
  /** Ended tasks whose miners reached consensus (a majority agreed). */
  reached: number;
  /** Miner results judged against the answer: agreeing, and not. */
  resultsAgreed: number;
  resultsDisagreed: number;
  /** Ended tasks' latencies: histogram bin → count (see latencyBin). */
  latency: Record<number, number>;
  /** Failed and timed-out tasks by their error's code. */
  errors: Record<string, number>;
};

export type ShardSeries = { buckets: ShardBucket[] };

/** Each histogram bin is this much wider than the one before: a percentile read from it is within 25 % of the exact one. */
export const LATENCY_BIN_RATIO = 1.25;
/** The bin a latency falls in, and the upper edge of a bin (what a percentile read from it reports). */
export const latencyBin = (ms: number) => (ms <= 1 ? 0 : Math.ceil(Math.log(ms) / Math.log(LATENCY_BIN_RATIO)));
export const binUpperEdge = (bin: number) => Math.round(LATENCY_BIN_RATIO ** bin);

export const emptyBucket = (): ShardBucket => ({ tasks: 0, ended: 0, failed: 0, reached: 0, resultsAgreed: 0, resultsDisagreed: 0, latency: {}, errors: {} });

export function taskSeries(sql: Sql, w: SeriesWindow): ShardSeries {
  const to = w.from + w.bucketMs * w.buckets;
  const buckets = Array.from({ length: w.buckets }, emptyBucket);
  const at = (createdAt: number) => buckets[Math.floor((createdAt - w.from) / w.bucketMs)];
  // An ended task's latency: its row's `updated_at` is its `ended` line's instant (task-metrics.ts).
  const tasks = sql<{ created_at: number; status: string; reached: number | null; latency: number | null; agreed: number; disagreed: number }>`
    SELECT t.created_at, t.status,
           CASE WHEN t.status = 'ended' AND json_valid(t.result) THEN json_extract(t.result, '$.consensus.reached') END AS reached,
           CASE WHEN t.status = 'ended' THEN t.updated_at - t.created_at END AS latency,
           (SELECT COUNT(*) FROM assignments a WHERE a.task_id = t.task_id AND a.agreed = 1) AS agreed,
           (SELECT COUNT(*) FROM assignments a WHERE a.task_id = t.task_id AND a.agreed = 0) AS disagreed
    FROM tasks t
    WHERE t.created_at >= ${w.from} AND t.created_at < ${to}`;
  for (const t of tasks) {
    const b = at(t.created_at);
    if (!b) continue;
    b.tasks += 1;
    b.resultsAgreed += t.agreed;
    b.resultsDisagreed += t.disagreed;
    if (t.status === "failed" || t.status === "timed_out") b.failed += 1;
    if (t.status !== "ended") continue;
    b.ended += 1;
    if (t.reached === 1) b.reached += 1;
    if (t.latency !== null) {
      const bin = latencyBin(t.latency);
      b.latency[bin] = (b.latency[bin] ?? 0) + 1;
    }
  }
  const failures = sql<{ created_at: number; code: string | null }>`
    SELECT created_at, CASE WHEN json_valid(error) THEN json_extract(error, '$.body.error.code') END AS code
    FROM tasks
    WHERE status IN ('failed', 'timed_out') AND created_at >= ${w.from} AND created_at < ${to}`;
  for (const f of failures) {
    const b = at(f.created_at);
    const code = f.code ?? "unknown";
    if (b) b.errors[code] = (b.errors[code] ?? 0) + 1;
  }
  return { buckets };
}
