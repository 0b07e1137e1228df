import { type ChainTarget, loadConfig } from "../domain/config/config";
import type { Env } from "./env";
import { metered } from "../domain/object-traffic";

/**
 * Every Durable Object is addressed here and nowhere else, so that the
 * naming of objects (one per session, per customer, per quota identity…)
 * is decided once. Only `workers/sessions/` reaches the Session object (and
 * a session's shards reach its own object, for its settings).
 * With OBJECT_TRAFFIC_METER on, each call is counted by object name.
 */
function stub<T extends Rpc.DurableObjectBranded | undefined>(env: Env, namespace: DurableObjectNamespace<T>, name: string): DurableObjectStub<T> {
  return metered(loadConfig(env).objectTrafficMeter, name, namespace.get(namespace.idFromName(name)));
}

export const sessionStub = (env: Env, sessionId: number) => stub(env, env.SESSIONS, `session:${sessionId}`);

/** Shard k of a session (domain/sessions/shard-layout.ts); shard 0 is the session's own object. */
export const sessionShardStub = (env: Env, sessionId: number, shard: number) =>
  shard === 0 ? sessionStub(env, sessionId) : stub(env, env.SESSIONS, `session:${sessionId}:shard:${shard}`);

/** The deployment's one miner registry (also the session directory). */
export const registryStub = (env: Env) => stub(env, env.MINERS, "registry");

export const ledgerStub = (env: Env, customerId: string) => stub(env, env.LEDGERS, `customer:${customerId}`);

export const quotaStub = (env: Env, identity: string) => stub(env, env.QUOTAS, identity);

/** One A2A task store per caller (key holder), so that callers never see each other's tasks. */
export const a2aTaskStoreStub = (env: Env, owner: string) => stub(env, env.A2A_TASKS, `owner:${owner}`);

/** One Chain index per chain and contract pair: a new CHAIN_ID or address is a new index, never a mix of two. */
export const chainIndexStub = (env: Env, target: Pick<ChainTarget, "chainId" | "sessionAddress" | "queueAddress">) =>
  stub(env, env.CHAIN_INDEX, `chain:${target.chainId}:${target.sessionAddress.toLowerCase()}:${target.queueAddress.toLowerCase()}`);
