import { env, exports } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { inject } from "vitest";
// Imported here, not only reached through `exports`: the Worker's modules load
// with the test file rather than inside whichever test calls it first.
import worker from "../workers/index";
import type { UsageInput } from "../durable-objects/ledger-schema";
import type { FleetName } from "./setup/global-setup";
import { TEST_ADMIN_KEY, TEST_ROUTER_KEY } from "./keys";
import { privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";
import { devMinerKey, identityKey, registrationProof } from "../tools/dev-miner/sign.ts";

const ORIGIN = "http://router.test";

export const fleet = () => inject("miners");

/** A request to the Worker under test, as a client would send it. */
export function call(path: string, init: RequestInit & { key?: string | null; json?: unknown } = {}): Promise<Response> {
  const { key = TEST_ROUTER_KEY, json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (key) headers.set("authorization", `Bearer ${key}`);
  if (json !== undefined) headers.set("content-type", "application/json");
  return exports.default.fetch(new Request(ORIGIN + path, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) }));
}

export const admin = (path: string, method: string, json?: unknown) => call(path, { method, key: TEST_ADMIN_KEY, json });

/**
 * The Worker's fetch under a configuration of its own (`vars` over the test
 * bindings), with a real ExecutionContext: `settled()` resolves once the work
 * the request handed to `waitUntil` (billing a stream, say) has finished.
 */
export function fetchWorker(request: Request, vars: Record<string, string | undefined> = {}) {
  return fetchWorkerIn(request, { ...env, ...vars } as typeof env);
}

/** The same with bindings of the test's own (test/observed-objects.ts watches the Durable Object calls through them). */
export async function fetchWorkerIn(request: Request, workerEnv: typeof env) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, workerEnv, ctx);
  return { response, settled: () => waitOnExecutionContext(ctx) };
}

/** A `fetch` for client SDKs (MCP, A2A, x402) that reaches the Worker through `fetchWorker`. */
export const workerFetch =
  (vars: Record<string, string | undefined> = {}): typeof fetch =>
  async (input, init) =>
    (await fetchWorker(new Request(input as RequestInfo, init), vars)).response;

// Per file and run: a random base, then a counter, so that ids never repeat
// within a file and files (and runs on a kept state) do not meet.
const base = crypto.getRandomValues(new Uint32Array(1))[0]!;
let counter = 0;
/** Unique per test run: keeps suites' miners, models and sessions apart. */
export const uniq = (prefix: string) => `${prefix}-${base.toString(36)}-${(counter++).toString(36)}`;
export const uniqSessionId = () => 1000 + ((base % 1_000_000) * 1000 + counter++);

/** A seeded PRNG, for tests of code that takes a `random` source. */
export { prng as mulberry32 } from "../tools/dev-miner/prng.ts";

/**
 * `address_proof` for registering `url` under `key`'s address: a challenge
 * from the router, signed by the key (tools/dev-miner/sign.ts).
 */
export async function addressProof(key: Hex, url: string): Promise<{ nonce: string; signature: Hex }> {
  const res = await admin("/api/v1/admin/miners/challenge", "POST", { url, evm_address: privateKeyToAccount(key).address });
  if (res.status !== 201) throw new Error(`challenge: ${res.status} ${await res.text()}`);
  return registrationProof(key, (await res.json()) as { nonce: string; message: string });
}

/**
 * `registered`: the fleet miners to register with a signing address, proven. An address is one
 * miner's across the registry, and files share it, so each registration is a fresh identity of the
 * fleet miner (`<token>~<id>`: it signs with `identityKey(devMinerKey(name), id)`, returned in `keys`).
 */
export async function minersFor(names: FleetName[], options: { maxConcurrency?: number; model?: string; offchain?: boolean; registered?: FleetName[] } = {}) {
  const model = options.model ?? uniq("model");
  const ids: Record<string, string> = {};
  const keys: Record<string, Hex> = {};
  for (const name of names) {
    const m = fleet()[name];
    const id = uniq(name);
    const key = options.registered?.includes(name) ? identityKey(devMinerKey(name), id) : undefined;
    if (key) keys[name] = key;
    const res = await admin("/api/v1/admin/miners", "POST", {
      id,
      url: m.url,
      credential: key ? `${m.token}~${id}` : m.token,
      models: [model],
      max_concurrency: options.maxConcurrency ?? 8,
      offchain: options.offchain ?? false,
      protocol: m.protocol,
      ...(key ? { evm_address: privateKeyToAccount(key).address, address_proof: await addressProof(key, m.url) } : {}),
    });
    if (res.status !== 201) throw new Error(`registering ${name}: ${res.status} ${await res.text()}`);
    ids[name] = id;
  }
  return { model, ids, keys };
}

export async function createSession(fields: Record<string, unknown>): Promise<number> {
  const id = uniqSessionId();
  const res = await admin("/api/v1/admin/sessions", "POST", { id, name: `session ${id}`, ...fields });
  if (res.status !== 201) throw new Error(`creating session: ${res.status} ${await res.text()}`);
  return id;
}

/** What a dev miner has received (its last 100 requests), read over HTTP. */
export async function minerInbox(name: FleetName): Promise<{ path: string; body: Record<string, unknown>; signing: Record<string, string> }[]> {
  const m = fleet()[name];
  const res = await fetch(`${m.url}/dev/stats`, { headers: { authorization: `Bearer ${m.token}` } });
  return ((await res.json()) as { recent: { path: string; body: Record<string, unknown>; signing: Record<string, string> }[] }).recent;
}

/** Dev miner request counter, read over HTTP like any client would. */
export async function minerRequests(name: FleetName): Promise<number> {
  const m = fleet()[name];
  const res = await fetch(`${m.url}/dev/stats`, { headers: { authorization: `Bearer ${m.token}` } });
  return ((await res.json()) as { requests: number }).requests;
}

/**
 * Polls `probe` until it gives a value, a bounded number of times. Only for
 * work the test cannot await: what another process (a dev miner) or another
 * Durable Object (the registry, told by a Session in its own waitUntil) does
 * after the response. Counted in attempts, not by the clock, so a test that
 * fakes Date cannot make it spin forever.
 */
export async function until<T>(probe: () => Promise<T | undefined | null | false>, attempts = 200): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await probe();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not met after ${attempts} attempts`);
}

/**
 * A gateway customer with one key (`key` fields as the admin API takes them), and the vars that
 * put the alias "default" on a fresh session served by a fleet miner.
 */
export async function gatewayCustomer(prefix: string, options: { balance?: number; key?: Record<string, unknown> } = {}) {
  const id = uniq(prefix)
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-");
  const created = await admin("/v1/admin/customers", "POST", { id, name: "Acme", billing: "prepaid", balance_micros: options.balance ?? 10_000_000 });
  if (created.status !== 201) throw new Error(`creating customer ${id}: ${created.status} ${await created.text()}`);
  const issued = (await (await admin(`/v1/admin/customers/${id}/keys`, "POST", options.key ?? {})).json()) as { id: string; key: string };
  const { model } = await minersFor(["fastA"]);
  const sessionId = await createSession({ model });
  return { id, issued, sessionId, vars: { GATEWAY_MODELS: JSON.stringify({ default: { pool: "local", session_id: sessionId } }) } };
}

/** A usage record for `costMicros` as the gateway's billing writes one (no key, no task): a charge against the account. */
export const usageCharge = (costMicros: number, tokens = 1): UsageInput => ({
  request_id: uniq("req"),
  key_id: "key_none",
  model: "default",
  router_pool: "local",
  session_id: null,
  task_id: null,
  prompt_tokens: tokens,
  completion_tokens: tokens,
  latency_ms: 1,
  status: "ok",
  error_code: null,
  cost_micros: costMicros,
});

/** A router-key completion through the Worker under `vars` (the reward and slashing settings travel with the task to its session); 200 expected. */
export async function routerCompletion(sessionId: number, vars: Record<string, string> = {}, prompt = uniq("prompt")) {
  const request = new Request(`http://router.test/api/v1/completions/${sessionId}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_ROUTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ prompt }),
  });
  const { response } = await fetchWorker(request, vars);
  if (response.status !== 200) throw new Error(`completion: ${response.status} ${await response.text()}`);
  return (await response.json()) as { task_id: number; usage: { completion_tokens: number } };
}
