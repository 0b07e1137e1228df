/**
 * The `npm run dev` stack of the browser tests (test/browser/stack-setup.ts
 * starts it once for every browser test file), and what a test does to it
 * from outside the page: admin API calls, a dev miner's faults.
 *
 * One stack for all the files, which run one after the other
 * (vitest.config.ts): a test that changes shared state (a miner's faults, a
 * registered miner) puts it back, or works on miners and sessions of its own.
 */
import { inject } from "vitest";
import type { DevMinerBehaviour } from "../../tools/dev-miner/behaviour.ts";
import { DEV_ADMIN_TOKEN, DEV_ROUTER_TOKEN } from "../../domain/config/dev-credentials.ts";

/** The dev admin and router keys `npm run dev` accepts (refused in production). */
export { DEV_ADMIN_TOKEN, DEV_ROUTER_TOKEN };

export const stack = () => inject("stack");

/** One of the stack's dev miners, by name (dev-miner-1 … dev-miner-6). */
export function stackMiner(name: string) {
  const miner = stack().miners.find((m) => m.name === name);
  if (!miner)
    throw new Error(
      `no miner ${name} in the stack: ${stack()
        .miners.map((m) => m.name)
        .join(", ")}`,
    );
  return miner;
}

/** Changes a dev miner's faults at run time (e.g. `{ wrongRate: 1 }`: every answer disagrees); returns its behaviour now. */
export async function setMinerBehaviour(name: string, patch: Partial<DevMinerBehaviour>): Promise<DevMinerBehaviour> {
  const miner = stackMiner(name);
  const res = await fetch(`${miner.url}/dev/config`, {
    method: "POST",
    headers: { authorization: `Bearer ${miner.token}`, "content-type": "application/json" },
    body: JSON.stringify(patch),
  });
  if (!res.ok) throw new Error(`${name} /dev/config: ${res.status} ${await res.text()}`);
  return (await res.json()) as DevMinerBehaviour;
}

/** A call to the router's API as the admin (or with `key`), from outside the browser: to set up or check what a page shows. */
export async function api(path: string, init: { method?: string; json?: unknown; key?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${init.key ?? DEV_ADMIN_TOKEN}` };
  if (init.json !== undefined) headers["content-type"] = "application/json";
  return fetch(new URL(path, stack().origin), {
    method: init.method ?? (init.json === undefined ? "GET" : "POST"),
    headers,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
}
