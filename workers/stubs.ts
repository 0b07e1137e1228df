import type { ChainTarget } from "./config/config";
import type { Env } from "./env";

/**
 * Every Durable Object is addressed here and nowhere else, so that the
 * naming of objects (one per session, per customer, per quota identity…)
 * is decided once. Only `workers/sessions/` reaches the Session object.
 */
export const sessionStub = (env: Env, sessionId: number) => env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}`));

/** The deployment's one miner registry (also the session directory). */
export const registryStub = (env: Env) => env.MINERS.get(env.MINERS.idFromName("registry"));

export const ledgerStub = (env: Env, customerId: string) => env.LEDGERS.get(env.LEDGERS.idFromName(`customer:${customerId}`));

export const quotaStub = (env: Env, identity: string) => env.QUOTAS.get(env.QUOTAS.idFromName(identity));

/** One A2A task store per caller (key holder), so that callers never see each other's tasks. */
export const a2aTaskStoreStub = (env: Env, owner: string) => env.A2A_TASKS.get(env.A2A_TASKS.idFromName(`owner:${owner}`));

/** One Chain index per chain and contract pair: a new CHAIN_ID or address is a new index, never a mix of two. */
export const chainIndexStub = (env: Env, target: Pick<ChainTarget, "chainId" | "sessionAddress" | "queueAddress">) =>
  env.CHAIN_INDEX.get(env.CHAIN_INDEX.idFromName(`chain:${target.chainId}:${target.sessionAddress.toLowerCase()}:${target.queueAddress.toLowerCase()}`));
