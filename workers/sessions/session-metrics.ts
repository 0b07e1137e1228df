import type { ProofCounts, TaskMetrics, TaskProof } from "../../durable-objects/session/task-metrics";
import type { Env } from "../env";
import { registryStub, sessionShardStub } from "../../domain/objects/stubs";
import { routingOf, shardsOf } from "../../durable-objects/session/shard-routing";

/** The deployment's inference figures, summed over every shard of every session. */
export type InferenceTotals = TaskMetrics & { sessions: number; p99LatencyMs: number | null };

/** Every shard of every session the registry lists, with its session id. */
export async function everyShard(env: Env) {
  const sessions = await registryStub(env).listSessions({ includeInactive: true });
  const perSession = await Promise.all(
    sessions.map(async (s) => {
      const routing = await routingOf(env, s.id);
      return shardsOf(routing?.shards ?? 1).map((shard) => ({ sessionId: s.id, stub: sessionShardStub(env, s.id, shard) }));
    }),
  );
  return perSession.flat();
}

/**
 * The deployment's newest `limit` decided tasks over every session shard,
 * newest first, and all of them counted: every task's, or (`namespace`) one
 * caller's own only.
 */
export async function recentProofs(env: Env, limit: number, namespace: string | null = null): Promise<{ proofs: (TaskProof & { sessionId: number })[]; counts: ProofCounts }> {
  const shards = await everyShard(env);
  const each = await Promise.all(
    shards.map(async (s) => ({
      proofs: (await s.stub.taskProofs(limit, namespace)).map((p) => ({ ...p, sessionId: s.sessionId })),
      counts: await s.stub.proofCounts(namespace),
    })),
  );
  const counts: ProofCounts = { submitted: 0, verified: 0, rewardMicros: 0 };
  for (const { counts: c } of each) {
    if (!c) continue;
    counts.submitted += c.submitted;
    counts.verified += c.verified;
    counts.rewardMicros += c.rewardMicros;
  }
  const proofs = each
    .flatMap((e) => e.proofs)
    .sort((a, b) => b.decidedAt - a.decidedAt || b.sessionId - a.sessionId || b.taskId - a.taskId)
    .slice(0, limit);
  return { proofs, counts };
}

/** The most slow tasks a p99 is read from (a deployment past 1 000 000 ended tasks gets the p99 of its slowest 10 000 over all of them). */
const MAX_TAIL = 10_000;

/**
 * Reads every session shard's own tables (durable-objects/session/task-metrics.ts)
 * and adds them up, when asked: a metrics read costs a call per shard, a task
 * costs nothing. The p99 is exact: every shard hands in its slowest tasks, as
 * many as the deployment's top 1 % holds, and the p99 is the last of the top
 * 1 % of those.
 */
export async function inferenceTotals(env: Env, now: number): Promise<InferenceTotals> {
  const sessions = await registryStub(env).listSessions({ includeInactive: true });
  const shards = (await everyShard(env)).map((s) => s.stub);
  const each = await Promise.all(shards.map((stub) => stub.inferenceMetrics(now)));
  const totals: InferenceTotals = {
    requests: 0,
    ended: 0,
    failed: 0,
    reached: 0,
    lastMinute: 0,
    tokensGenerated: 0,
    latencySumMs: 0,
    rewardMicros: 0,
    rewardTodayMicros: 0,
    pendingRewardMicros: 0,
    sessions: sessions.length,
    p99LatencyMs: null,
  };
  for (const m of each) {
    if (!m) continue;
    totals.requests += m.requests;
    totals.ended += m.ended;
    totals.failed += m.failed;
    totals.reached += m.reached;
    totals.lastMinute += m.lastMinute;
    totals.tokensGenerated += m.tokensGenerated;
    totals.latencySumMs += m.latencySumMs;
    totals.rewardMicros += m.rewardMicros;
    totals.rewardTodayMicros += m.rewardTodayMicros;
    totals.pendingRewardMicros += m.pendingRewardMicros;
  }
  if (totals.ended > 0) {
    // The p99 is the value with 1 % of ended tasks (rounded down) slower than it.
    const rank = Math.floor(totals.ended * 0.01);
    const take = Math.min(rank + 1, MAX_TAIL);
    const tails = await Promise.all(shards.map((stub, i) => (each[i]?.ended ? stub.slowestLatencies(take) : Promise.resolve([]))));
    const slowest = tails.flat().sort((a, b) => b - a);
    totals.p99LatencyMs = slowest[Math.min(rank, slowest.length - 1)] ?? null;
  }
  return totals;
}
