import { z } from "zod";
import { sha256Hex } from "../crypto/sha256.ts";
import { MAX_SHARDS, type SessionConfig } from "../schemas/session.ts";

/**
 * How one session's tasks are spread over its shards (Session objects
 * `session:{id}` for shard 0 and `session:{id}:shard:{k}` for the others).
 *
 * A task's id says which shard holds it, whatever the session's count is
 * now: from `base` on, shard k gives the ids `base + k`, `base + k + 16`,
 * `base + k + 32`…, so `(id - base) mod 16` is its shard. Ids below `base`
 * are those the session's own object gave, one by one, before it was first
 * sharded; a session never sharded (`base` null) numbers 0, 1, 2… as before.
 *
 * A request id's task lives on the shard `hash(key) mod count`. Counts only
 * grow, and every count the session has had since `base` is kept in
 * `history`, so that a request id first seen under an older count is still
 * found (and replayed) where it went.
 */
export const ShardLayoutSchema = z.object({
  base: z.number().int().min(0).nullable(),
  history: z.array(z.number().int().min(1).max(MAX_SHARDS)).min(1),
});
export type ShardLayout = z.infer<typeof ShardLayoutSchema>;

/** A shard's answer to a call routed by settings it does not hold: the Worker reads the routing again and resends. */
export const STALE_ROUTING = "stale_routing";

export const UNSHARDED: ShardLayout = { base: null, history: [1] };

/** What a Worker routes a session's calls by; `version` changes with every change of the settings. */
export type Routing = { version: string; shards: number; layout: ShardLayout };

/** The settings as the primary hands them to a shard. */
export type ShardSnapshot = { sessionId: number; config: SessionConfig; version: string; layout: ShardLayout; createdAt: number };

/** The layout once the session has `shards` shards; `nextId` is the id shard 0 would give next. Counts only grow. */
export function relayout(layout: ShardLayout, shards: number, nextId: number): ShardLayout {
  const current = layout.history.at(-1) ?? 1;
  if (shards === current) return layout;
  if (shards < current) throw new RangeError(`a session's shards are never fewer (${current} to ${shards})`);
  // Above every id shard 0 gave so far, at a multiple of the stride, so that residues name shards.
  const base = layout.base ?? Math.ceil(nextId / MAX_SHARDS) * MAX_SHARDS;
  return { base, history: [...layout.history, shards] };
}

/** The shard holding a task. */
export function shardOfTask(layout: ShardLayout, taskId: number): number {
  return layout.base === null || taskId < layout.base ? 0 : (taskId - layout.base) % MAX_SHARDS;
}

/** The id a shard gives its next task, from the largest it gave since `base` (all ids when unsharded). */
export function nextTaskId(layout: ShardLayout, shard: number, largest: number | null): number {
  if (layout.base === null) return largest === null ? 0 : largest + 1;
  return largest === null ? layout.base + shard : largest + MAX_SHARDS;
}

/** The shard a request key's task goes to now, and the shards it went to under the session's older counts. */
export async function homesOfKey(layout: ShardLayout, requestKey: string): Promise<{ current: number; earlier: number[] }> {
  const hash = Number.parseInt((await sha256Hex(requestKey)).slice(0, 8), 16);
  const homes = layout.history.map((count) => hash % count);
  const current = homes.at(-1) ?? 0;
  return { current, earlier: [...new Set(homes)].filter((h) => h !== current) };
}
