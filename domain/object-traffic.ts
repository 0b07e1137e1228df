/**
 * Counts the calls this isolate makes to each Durable Object, by object name,
 * when OBJECT_TRAFFIC_METER is on. The bench reads the counts before and after
 * a scenario to find the busiest object and the requests per second it took
 * (issue: no global object on a task's path). Counts live in isolate memory:
 * on local workerd every object shares one isolate, so they are complete; on
 * Cloudflare each isolate sees only its own calls.
 */
const counts = new Map<string, number>();
let countingSince = Date.now();

/** The stub itself when off; when on, a stub whose method calls are counted under `name`. */
export function metered<T extends object>(on: boolean, name: string, stub: T): T {
  if (!on) return stub;
  return new Proxy(stub, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (typeof value !== "function" || typeof prop === "symbol" || prop === "then") return value;
      return (...args: unknown[]) => {
        counts.set(name, (counts.get(name) ?? 0) + 1);
        return Reflect.apply(value, target, args);
      };
    },
  });
}

export type ObjectTraffic = { since: string; objects: { object: string; calls: number }[] };

/** The counts so far, busiest first. */
export function objectTraffic(): ObjectTraffic {
  return {
    since: new Date(countingSince).toISOString(),
    objects: [...counts].map(([object, calls]) => ({ object, calls })).sort((a, b) => b.calls - a.calls || a.object.localeCompare(b.object)),
  };
}

export function resetObjectTraffic(): void {
  counts.clear();
  countingSince = Date.now();
}
