import { exports } from "cloudflare:workers";
import { inject } from "vitest";
import type { FleetName } from "./setup/global-setup";
import { TEST_ADMIN_KEY, TEST_ROUTER_KEY } from "./keys";

const ORIGIN = "http://router.test";

export const fleet = () => inject("miners");

/** A request to the Worker under test, as a client would send it. */
export function call(path: string, init: RequestInit & { key?: string | null; json?: unknown } = {}): Promise<Response> {
  const { key = TEST_ROUTER_KEY, json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (key) headers.set("authorization", `Bearer ${key}`);
  if (json !== undefined) headers.set("content-type", "application/json");
  return exports.default.fetch(
    new Request(ORIGIN + path, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) }),
  );
}

export const admin = (path: string, method: string, json?: unknown) => call(path, { method, key: TEST_ADMIN_KEY, json });

let counter = 0;
/** Unique per test run: keeps suites' miners, models and sessions apart. */
export const uniq = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
export const uniqSessionId = () => 1000 + Math.floor(Math.random() * 1e9);

/** Registers fleet miners under a fresh model name and returns it (plus the router's miner ids). */
export async function minersFor(names: FleetName[], options: { maxConcurrency?: number; model?: string; offchain?: boolean } = {}) {
  const model = options.model ?? uniq("model");
  const ids: Record<string, string> = {};
  for (const name of names) {
    const m = fleet()[name];
    const id = uniq(name);
    const res = await admin("/api/v1/admin/miners", "POST", {
      id,
      url: m.url,
      credential: m.token,
      models: [model],
      max_concurrency: options.maxConcurrency ?? 8,
      offchain: options.offchain ?? false,
    });
    if (res.status !== 201) throw new Error(`registering ${name}: ${res.status} ${await res.text()}`);
    ids[name] = id;
  }
  return { model, ids };
}

export async function createSession(fields: Record<string, unknown>): Promise<number> {
  const id = uniqSessionId();
  const res = await admin("/api/v1/admin/sessions", "POST", { id, name: `session ${id}`, ...fields });
  if (res.status !== 201) throw new Error(`creating session: ${res.status} ${await res.text()}`);
  return id;
}

/** What a dev miner has received (its last 100 requests), read over HTTP. */
export async function minerInbox(name: FleetName): Promise<{ path: string; body: Record<string, unknown> }[]> {
  const m = fleet()[name];
  const res = await fetch(`${m.url}/dev/stats`, { headers: { authorization: `Bearer ${m.token}` } });
  return ((await res.json()) as { recent: { path: string; body: Record<string, unknown> }[] }).recent;
}

/** Dev miner request counter, read over HTTP like any client would. */
export async function minerRequests(name: FleetName): Promise<number> {
  const m = fleet()[name];
  const res = await fetch(`${m.url}/dev/stats`, { headers: { authorization: `Bearer ${m.token}` } });
  return ((await res.json()) as { requests: number }).requests;
}

export async function until<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
