import type { env } from "cloudflare:workers";

type Env = typeof env;
const NAMESPACES = ["SESSIONS", "MINERS", "LEDGERS", "QUOTAS", "A2A_TASKS"] as const;

/**
 * What to do to one call on its way: nothing, fail it before it reaches the
 * object (a connection lost on the way there), or after the object did the
 * work (the reply lost on the way back).
 */
export type Fault = "before" | "after" | undefined;

/**
 * The Worker's own bindings, with its Durable Object namespaces wrapped so
 * that every method the Worker calls on a stub is logged in order
 * ("LEDGERS.recordUsages") and then made on the real object. `fault` may
 * fail a call as the network would (the nth call of that name, from 1).
 * Calls the objects make among themselves go through their own bindings and
 * are not seen.
 */
export function observedObjects(
  base: Env,
  fault: (call: string, nth: number) => Fault = () => undefined,
  /** Runs when a fault fires, before the caller sees it (restart an object, say). */
  whenFailed: (call: string) => Promise<void> = async () => {},
) {
  const calls: string[] = [];
  const stubOf = (namespace: string, stub: object) =>
    new Proxy(stub, {
      get(target, method, receiver) {
        const value = Reflect.get(target, method, receiver);
        if (typeof method !== "string" || typeof value !== "function") return value;
        return async (...args: unknown[]) => {
          const call = `${namespace}.${method}`;
          calls.push(call);
          const what = fault(call, calls.filter((c) => c === call).length);
          if (what === "before") {
            await whenFailed(call);
            throw new Error(`Network connection lost (${call}, before it arrived)`);
          }
          // Reflect.apply: an RPC method stub answers any property, `apply` included, as a remote method.
          const result: unknown = await Reflect.apply(value, target, args);
          if (what === "after") {
            await whenFailed(call);
            throw new Error(`Network connection lost (${call}, its reply)`);
          }
          return result;
        };
      },
    });
  const namespaceOf = (name: string, ns: DurableObjectNamespace) =>
    new Proxy(ns, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (prop === "get") return (...args: Parameters<DurableObjectNamespace["get"]>) => stubOf(name, target.get(...args));
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  const observed = { ...base } as Record<string, unknown>;
  for (const name of NAMESPACES) observed[name] = namespaceOf(name, base[name] as unknown as DurableObjectNamespace);
  /** The calls logged since `from` (an index into `calls`). */
  const since = (from: number) => calls.slice(from);
  return { env: observed as unknown as Env, calls, since };
}
