import type { SessionObject } from "./session-object";
import type { SessionsEnv } from "./sessions-env";
import { sessionShardStub, sessionStub } from "../../domain/objects/stubs";
import { cachedRouting, forgetRouting, rememberRouting } from "./routing-cache";
import { homesOfKey, type Routing, shardOfTask } from "../../domain/sessions/shard-layout";

/** The session's routing: this isolate's copy, else (or `fresh`) read from the session's own object; null where there is no such session. */
export async function routingOf(env: SessionsEnv, sessionId: number, options: { fresh?: boolean } = {}): Promise<Routing | null> {
  const cached = options.fresh ? undefined : cachedRouting(sessionId);
  if (cached) return cached;
  const routing = await sessionStub(env, sessionId).routing();
  if (routing) rememberRouting(sessionId, routing);
  else forgetRouting(sessionId);
  return routing;
}

/** Shards `from`…`count - 1`. */
export const shardsOf = (count: number, from = 0) => Array.from({ length: count - from }, (_, i) => i + from);

let turn = 0;

/**
 * The shard a new task goes to. With a request id, the one its key hashes to,
 * unless a shard it hashed to under an older count already holds it (then the
 * replay is answered there); without one, the shards in turn.
 */
export async function shardForTask(env: SessionsEnv, sessionId: number, routing: Routing | null, requestKey: string | null): Promise<number> {
  if (routing === null || routing.layout.base === null) return 0;
  if (requestKey === null) return turn++ % routing.shards;
  const homes = await homesOfKey(routing.layout, requestKey);
  for (const shard of homes.earlier) if (await sessionShardStub(env, sessionId, shard).knowsRequest(requestKey)) return shard;
  return homes.current;
}

/**
 * A read or call on the shard a task id names. A task this isolate's routing
 * does not place where it is (the session grew since it was read) is looked
 * for once more by routing read afresh, on the shard that names, if another.
 */
export async function taskShard<T>(
  env: SessionsEnv,
  sessionId: number,
  taskId: number,
  read: (shard: DurableObjectStub<SessionObject>) => Promise<T>,
  found: (value: T) => boolean,
): Promise<T> {
  const shardBy = (routing: Routing | null) => (routing ? shardOfTask(routing.layout, taskId) : 0);
  const before = shardBy(await routingOf(env, sessionId));
  const first = await read(sessionShardStub(env, sessionId, before));
  if (found(first)) return first;
  const after = shardBy(await routingOf(env, sessionId, { fresh: true }));
  return after === before ? first : read(sessionShardStub(env, sessionId, after));
}
