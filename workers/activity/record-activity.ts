import type { Context } from "hono";
import type { Env } from "../env";
import { keyedBatches } from "../gateway/keyed-batches";
import type { AppEnv } from "../http/app-env";
import { type ActivityBatch, type ActivityCounts, type ActivityDelta, ActivityDeltaSchema } from "../../domain/schemas/activity";
import { registryStub } from "../../domain/objects/stubs";

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

/** How often a batch is sent before it is dropped, and the wait before each retry (all within the request's `waitUntil`). */
export const ACTIVITY_SEND_BACKOFF_MS = [250, 1_000, 4_000] as const;

type AddBatch = (batch: ActivityBatch) => Promise<unknown>;

/**
 * Sends one batch under an id of its own, retrying a failed send (bounded:
 * one try and a retry per `backoffMs` entry, then logged and dropped). A
 * failed call may have been applied, so every try carries the same id and
 * the registry applies it once: a retried batch counts once; a dropped one
 * leaves the day's figures low, never high.
 */
export async function sendActivity(add: AddBatch, items: readonly ActivityCounts[], backoffMs: readonly number[] = ACTIVITY_SEND_BACKOFF_MS): Promise<boolean> {
  const batch = { batchId: crypto.randomUUID(), sums: sumActivity(items) };
  for (let attempt = 0; ; attempt++) {
    try {
      await add(batch);
      return true;
    } catch (err) {
      const wait = backoffMs[attempt];
      if (wait === undefined) {
        console.error("activity batch not recorded after retries", items.length, err);
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

async function send(env: Env, items: ActivityCounts[]): Promise<undefined[]> {
  await sendActivity((batch) => registryStub(env).addActivity(batch), items);
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
