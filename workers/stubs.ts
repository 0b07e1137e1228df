import type { Env } from "./env";

/**
 * Every Durable Object is addressed here and nowhere else, so that the
 * naming of objects (one per session, per customer, per quota identity…)
 * is decided once. Only `workers/sessions/` reaches the Session object (and
 * a session's shards reach its own object, for its settings).
 */
export const sessionStub = (env: Env, sessionId: number) => env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}`));

/** Shard k of a session (workers/sessions/shard-layout.ts); shard 0 is the session's own object. */
export const sessionShardStub = (env: Env, sessionId: number, shard: number) =>
  shard === 0 ? sessionStub(env, sessionId) : env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}:shard:${shard}`));

/** The deployment's one miner registry (also the session directory). */
export const registryStub = (env: Env) => env.MINERS.get(env.MINERS.idFromName("registry"));

export const ledgerStub = (env: Env, customerId: string) => env.LEDGERS.get(env.LEDGERS.idFromName(`customer:${customerId}`));

export const quotaStub = (env: Env, identity: string) => env.QUOTAS.get(env.QUOTAS.idFromName(identity));

/** One A2A task store per caller (key holder), so that callers never see each other's tasks. */
export const a2aTaskStoreStub = (env: Env, owner: string) => env.A2A_TASKS.get(env.A2A_TASKS.idFromName(`owner:${owner}`));
