import type { Env } from "../env";

/** The Durable Object of one session. */
export const sessionStub = (env: Env, sessionId: number) => env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}`));

/** The deployment's one miner registry (also the session directory). */
export const registryStub = (env: Env) => env.MINERS.get(env.MINERS.idFromName("registry"));
