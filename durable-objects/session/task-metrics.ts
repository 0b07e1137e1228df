import type { Sql } from "../sqlite-object";

/**
 * What one session shard's tasks add up to, read from its tables when asked
 * (the NeuroShard node's metrics sum them over every shard): no counter is
 * kept on a task's path. A task's latency runs from its creation to its
 * `ended` line, whose instant the commit writes as its row's `updated_at`
 * (nothing writes an ended task's row's `updated_at` again); tokens are the answer's completion tokens (a private
 * session's sealed results are not read, and count none).
 */
export type TaskMetrics = {
  requests: number;
  ended: number;
  failed: number;
  /** Ended tasks whose miners reached consensus (a majority agreed). */
  reached: number;
  /** Tasks created in the minute before `now`. */
  lastMinute: number;
  tokensGenerated: number;
  latencySumMs: number;
  /** What the committed tasks paid their miners (micros, `tasks.reward_micros`): in all, and those decided since UTC midnight. */
  rewardMicros: number;
  rewardTodayMicros: number;
  /** Rewards recorded and not yet taken by the payout accounts' Ledgers (the outbox, pending-rewards.ts). */
  pendingRewardMicros: number;
};

const utcMidnight = (now: number) => now - (now % 86_400_000);

// Every read of `result` is `CASE WHEN json_valid(…) THEN json_extract(…) END`:
// SQLite evaluates both sides of an AND, so a guard joined with AND would
// still run json_extract over a private session's sealed (non-JSON) result
// and fail the whole report.
export function taskMetrics(sql: Sql, now: number): TaskMetrics {
  const counts = sql<{ requests: number; ended: number; failed: number; reached: number; tokens: number | null }>`
    SELECT COUNT(*) AS requests,
           COALESCE(SUM(status = 'ended'), 0) AS ended,
           COALESCE(SUM(status IN ('failed', 'timed_out')), 0) AS failed,
           COALESCE(SUM(CASE WHEN status = 'ended' AND json_valid(result) THEN json_extract(result, '$.consensus.reached') = 1 END), 0) AS reached,
           SUM(CASE WHEN status = 'ended' AND json_valid(result) THEN json_extract(result, '$.usage.completion_tokens') END) AS tokens
    FROM tasks`[0];
  // The last minute's tasks: a range of the creation-time index, not a pass over every task.
  const lastMinute = sql<{ n: number }>`SELECT COUNT(*) AS n FROM tasks WHERE created_at > ${now - 60_000}`[0];
  const latency = sql<{ total: number | null }>`SELECT SUM(updated_at - created_at) AS total FROM tasks WHERE status = 'ended'`[0];
  return {
    requests: counts?.requests ?? 0,
    ended: counts?.ended ?? 0,
    failed: counts?.failed ?? 0,
    reached: counts?.reached ?? 0,
    lastMinute: lastMinute?.n ?? 0,
    tokensGenerated: counts?.tokens ?? 0,
    latencySumMs: latency?.total ?? 0,
    ...rewardTotals(sql, now),
  };
}

/** What the committed tasks paid their miners (in all, since UTC midnight) and what the outbox still holds. */
function rewardTotals(sql: Sql, now: number): Pick<TaskMetrics, "rewardMicros" | "rewardTodayMicros" | "pendingRewardMicros"> {
  const paid = sql<{ total: number; today: number }>`
    SELECT COALESCE(SUM(reward_micros), 0) AS total,
           COALESCE(SUM(CASE WHEN updated_at >= ${utcMidnight(now)} THEN reward_micros END), 0) AS today
    FROM tasks WHERE reward_micros IS NOT NULL`[0];
  const pending = sql<{ micros: number }>`SELECT COALESCE(SUM(amount_micros), 0) AS micros FROM pending_rewards WHERE kind = 'reward'`[0];
  return { rewardMicros: paid?.total ?? 0, rewardTodayMicros: paid?.today ?? 0, pendingRewardMicros: pending?.micros ?? 0 };
}

/** This shard's `limit` slowest ended tasks' latencies, slowest first: the top of every shard holds the deployment's p99. */
export function slowestLatencies(sql: Sql, limit: number): number[] {
  return sql<{ ms: number }>`
    SELECT updated_at - created_at AS ms FROM tasks WHERE status = 'ended'
    ORDER BY ms DESC LIMIT ${limit}`.map((r) => r.ms);
}

/** A decided task's consensus record: what the NeuroShard node API lists as a proof. */
export type TaskProof = {
  taskId: number;
  status: string;
  decidedAt: number;
  /** `consensus.status` of the answer; null for a failed task (or a private session's sealed result). */
  consensus: string | null;
  reached: boolean;
  /** The agreed answer's precommit hash (SHA-256 of the output). */
  answerHash: string | null;
  agreed: number;
  redundancy: number;
  /** What the task paid its miners (micros): 0 for a task that failed; null for one decided before tasks recorded it. */
  rewardMicros: number | null;
};

/** The decided tasks' stats: submitted, verified (a majority agreed) and what they paid their miners (micros). */
export type ProofCounts = { submitted: number; verified: number; rewardMicros: number };

// `namespace`: a caller namespace's tasks only (domain/sessions/caller.ts: their stored request ids begin
// `{namespace}:`); null, every task. Compared by prefix, not LIKE, so no character of it is a wildcard.

/** This shard's newest `limit` decided tasks (of one caller namespace, or all), newest first. */
export function taskProofs(sql: Sql, limit: number, namespace: string | null = null): TaskProof[] {
  return sql<{
    task_id: number;
    status: string;
    updated_at: number;
    consensus: string | null;
    reached: number | null;
    answer_hash: string | null;
    agreed: number;
    redundancy: number;
    reward_micros: number | null;
  }>`
    SELECT t.task_id, t.status, t.updated_at, t.redundancy,
           CASE WHEN t.status = 'ended' THEN t.reward_micros ELSE 0 END AS reward_micros,
           CASE WHEN json_valid(t.result) THEN json_extract(t.result, '$.consensus.status') END AS consensus,
           CASE WHEN json_valid(t.result) THEN json_extract(t.result, '$.consensus.reached') END AS reached,
           (SELECT a.precommit_hash FROM assignments a WHERE a.task_id = t.task_id AND a.agreed = 1 LIMIT 1) AS answer_hash,
           (SELECT COUNT(*) FROM assignments a WHERE a.task_id = t.task_id AND a.agreed = 1) AS agreed
    FROM tasks t
    WHERE t.status IN ('ended', 'failed', 'timed_out') AND (${namespace} IS NULL OR substr(t.request_id, 1, length(${namespace}) + 1) = ${namespace} || ':')
    ORDER BY t.updated_at DESC, t.task_id DESC LIMIT ${limit}`.map((r) => ({
    taskId: r.task_id,
    status: r.status,
    decidedAt: r.updated_at,
    consensus: r.consensus,
    reached: r.reached === 1,
    answerHash: r.answer_hash,
    agreed: r.agreed,
    redundancy: r.redundancy,
    rewardMicros: r.reward_micros,
  }));
}

/** This shard's decided tasks (of one caller namespace, or all) counted. */
export function proofCounts(sql: Sql, namespace: string | null = null): ProofCounts {
  const row = sql<{ submitted: number; verified: number; rewards: number }>`
    SELECT COUNT(*) AS submitted,
           COALESCE(SUM(CASE WHEN status = 'ended' AND json_valid(result) THEN json_extract(result, '$.consensus.reached') = 1 END), 0) AS verified,
           COALESCE(SUM(reward_micros), 0) AS rewards
    FROM tasks WHERE status IN ('ended', 'failed', 'timed_out') AND (${namespace} IS NULL OR substr(request_id, 1, length(${namespace}) + 1) = ${namespace} || ':')`[0];
  return { submitted: row?.submitted ?? 0, verified: row?.verified ?? 0, rewardMicros: row?.rewards ?? 0 };
}
