import type { TaskMetrics, TaskProof } from "../../durable-objects/session/task-metrics";
import type { Env } from "../env";
import { registryStub, sessionShardStub } from "../stubs";
import { routingOf, shardsOf } from "./shard-routing";

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

/** The deployment's newest `limit` decided tasks over every session shard, newest first. */
export async function recentProofs(env: Env, limit: number): Promise<(TaskProof & { sessionId: number })[]> {
  const shards = await everyShard(env);
  const each = await Promise.all(shards.map(async (s) => (await s.stub.taskProofs(limit)).map((p) => ({ ...p, sessionId: s.sessionId }))));
  return each
    .flat()
    .sort((a, b) => b.decidedAt - a.decidedAt || b.sessionId - a.sessionId || b.taskId - a.taskId)
    .slice(0, limit);
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
