import type { Sql } from "../sqlite-object";

/**
 * What one session shard's tasks add up to, read from its tables when asked
 * (the NeuroShard node's metrics sum them over every shard): no counter is
 * kept on a task's path. A task's latency runs from its creation to its
 * `ended` event; tokens are the answer's completion tokens (a private
 * session's sealed results are not read, and count none).
 */
export type TaskMetrics = {
  requests: number;
  ended: number;
  failed: number;
  /** Tasks created in the minute before `now`. */
  lastMinute: number;
  tokensGenerated: number;
  latencySumMs: number;
};

export function taskMetrics(sql: Sql, now: number): TaskMetrics {
  const counts = sql<{ requests: number; ended: number; failed: number; last_minute: number; tokens: number | null }>`
    SELECT COUNT(*) AS requests,
           COALESCE(SUM(status = 'ended'), 0) AS ended,
           COALESCE(SUM(status IN ('failed', 'timed_out')), 0) AS failed,
           COALESCE(SUM(created_at > ${now - 60_000}), 0) AS last_minute,
           SUM(CASE WHEN status = 'ended' AND json_valid(result) THEN json_extract(result, '$.usage.completion_tokens') END) AS tokens
    FROM tasks`[0];
  const latency = sql<{ total: number | null }>`
    SELECT SUM(e.at - t.created_at) AS total
    FROM tasks t JOIN task_events e ON e.task_id = t.task_id AND e.slot IS NULL AND e.state = 'ended'
    WHERE t.status = 'ended'`[0];
  return {
    requests: counts?.requests ?? 0,
    ended: counts?.ended ?? 0,
    failed: counts?.failed ?? 0,
    lastMinute: counts?.last_minute ?? 0,
    tokensGenerated: counts?.tokens ?? 0,
    latencySumMs: latency?.total ?? 0,
  };
}

/** This shard's `limit` slowest ended tasks' latencies, slowest first: the top of every shard holds the deployment's p99. */
export function slowestLatencies(sql: Sql, limit: number): number[] {
  return sql<{ ms: number }>`
    SELECT e.at - t.created_at AS ms
    FROM tasks t JOIN task_events e ON e.task_id = t.task_id AND e.slot IS NULL AND e.state = 'ended'
    WHERE t.status = 'ended'
    ORDER BY ms DESC LIMIT ${limit}`.map((r) => r.ms);
}
