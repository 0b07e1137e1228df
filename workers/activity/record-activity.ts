import type { Context } from "hono";
import type { Env } from "../env";
import { keyedBatches } from "../gateway/keyed-batches";
import type { AppEnv } from "../http/app-env";
import { type ActivityCounts, type ActivityDelta, ActivityDeltaSchema } from "../schemas/activity";
import { registryStub } from "../stubs";

/**
 * How long an isolate gathers activity before sending it, and the most one
 * batch holds: the registry gets at most about one call a second from each
 * busy isolate, whatever the request rate, and none from an idle one.
 */
export const ACTIVITY_BATCH_MS = 1_000;
export const ACTIVITY_BATCH_MAX = 256;

const batches = keyedBatches<ActivityCounts, undefined>({ waitMs: ACTIVITY_BATCH_MS, max: ACTIVITY_BATCH_MAX });

export const utcDay = (at: number) => new Date(at).toISOString().slice(0, 10);

/** A batch as the registry adds it: one sum per day and channel. */
export function sumActivity(items: readonly ActivityCounts[]): ActivityCounts[] {
  const sums = new Map<string, ActivityCounts>();
  for (const item of items) {
    const key = `${item.day}:${item.channel}`;
    const sum = sums.get(key);
    if (!sum) {
      sums.set(key, { ...item });
      continue;
    }
    sum.admitted += item.admitted;
    sum.refused += item.refused;
    sum.settled += item.settled;
    sum.settled_micros += item.settled_micros;
    sum.tokens += item.tokens;
  }
  return [...sums.values()];
}

async function send(env: Env, items: ActivityCounts[]): Promise<undefined[]> {
  try {
    await registryStub(env).addActivity(sumActivity(items));
  } catch (err) {
    // Not retried: the registry's add is not idempotent, and a call that failed may have been applied.
    // A lost batch leaves the day's figures low, never high.
    console.error("activity batch not recorded", items.length, err);
  }
  return items.map(() => undefined);
}

/**
 * Counts one request's trial or x402 activity for today (UTC), after the
 * client's answer: the record joins the isolate's batch, and the request's
 * `waitUntil` keeps the isolate alive until the batch is sent.
 */
export function recordActivity(c: Context<AppEnv>, delta: ActivityDelta, now = Date.now()): void {
  const item = { ...ActivityDeltaSchema.parse(delta), day: utcDay(now) };
  const env = c.env;
  c.executionCtx.waitUntil(batches.add("activity", item, (items) => send(env, items)));
}
