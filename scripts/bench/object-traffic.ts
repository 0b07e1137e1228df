/**
 * The busiest Durable Object over a stretch of load, from the router's own
 * count of calls by object (OBJECT_TRAFFIC_METER, GET /api/v1/admin/object-traffic).
 * On local workerd every object lives in one isolate, so the counts are all calls.
 */
import { DEV_ADMIN_TOKEN } from "../../domain/config/dev-credentials.ts";
import { round } from "./load.ts";

export type Counts = Map<string, number>;
export type Busiest = { object: string; calls: number; rps: number; objects_called: number };

export async function objectCounts(origin: string): Promise<Counts> {
  const res = await fetch(`${origin}/api/v1/admin/object-traffic`, { headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` } });
  const body = (await res.json()) as { enabled?: boolean; objects?: { object: string; calls: number }[] };
  if (res.status !== 200 || !body.enabled || !body.objects) throw new Error(`object traffic: ${res.status} ${JSON.stringify(body)}`);
  return new Map(body.objects.map((o) => [o.object, o.calls]));
}

/** The object that took the most calls between two counts, and its calls per second over `seconds`. */
export function busiest(before: Counts, after: Counts, seconds: number): Busiest | undefined {
  let top: { object: string; calls: number } | undefined;
  let called = 0;
  for (const [object, n] of after) {
    const calls = n - (before.get(object) ?? 0);
    if (calls <= 0) continue;
    called++;
    if (!top || calls > top.calls) top = { object, calls };
  }
  return top && { ...top, rps: round(top.calls / Math.max(0.001, seconds)), objects_called: called };
}
