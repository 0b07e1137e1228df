/**
 * The bench's clients of the router: its completion routes with the router
 * key, the gateway's OpenAI route with a customer key, the floor Worker's
 * paths, and the bench customer's key. Shared by bench.ts and bench/profile.ts.
 */
import { DEV_ADMIN_TOKEN, DEV_ROUTER_TOKEN } from "../../domain/config/dev-credentials.ts";
import { provision } from "../provision.ts";
import type { Send } from "./load.ts";

const json = { "content-type": "application/json" };
export const prompt = (i: number) => `Benchmark prompt ${((i % 50) + 50) % 50}`;

export const viaRouter =
  (origin: string, sessionFor: (i: number) => number, stream = false, version: "v1" | "v3" = "v1"): Send =>
  (i, signal) =>
    fetch(`${origin}/api/${version}/completions/${sessionFor(i)}`, {
      method: "POST",
      signal,
      headers: { ...json, authorization: `Bearer ${DEV_ROUTER_TOKEN}` },
      body: JSON.stringify({ prompt: prompt(i), max_tokens: 32, stream }),
    });
/** The bench's floor Worker (scripts/bench/floor/): one of its paths, with the same request a miner gets. */
export const viaFloor =
  (origin: string, path: "/relay" | "/task" | "/task-r2" | "/task-wal"): Send =>
  (i, signal) =>
    fetch(`${origin}${path}`, { method: "POST", signal, headers: json, body: JSON.stringify({ model: "bench", prompt: prompt(i), max_tokens: 32 }) });
export const viaGateway =
  (origin: string, key: string): Send =>
  (i, signal) =>
    fetch(`${origin}/openai/v1/chat/completions`, {
      method: "POST",
      signal,
      headers: { ...json, authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: "default", messages: [{ role: "user", content: prompt(i) }], max_tokens: 32 }),
    });
/**
 * The dev customer key allows 600 requests a minute, fewer than the loaded run sends: a
 * bench customer gets a key allowing 100 000 (the most a key may have), on the same path.
 */
export async function issueBenchKey(origin: string, id = "bench"): Promise<string> {
  const admin = { ...json, authorization: `Bearer ${DEV_ADMIN_TOKEN}` };
  const customer = await fetch(`${origin}/v1/admin/customers`, {
    method: "POST",
    headers: admin,
    body: JSON.stringify({ id, name: `${id} customer`, billing: "prepaid", balance_micros: 1_000_000_000 }),
  });
  if (customer.status !== 201 && customer.status !== 409) throw new Error(`creating the bench customer: ${customer.status} ${await customer.text()}`);
  const issued = await fetch(`${origin}/v1/admin/customers/${id}/keys`, {
    method: "POST",
    headers: admin,
    body: JSON.stringify({ name: id, requests_per_minute: 100_000, tokens_per_minute: 100_000_000 }),
  });
  const body: unknown = await issued.json();
  const key = body && typeof body === "object" && "key" in body && typeof body.key === "string" ? body.key : undefined;
  if (issued.status !== 201 || !key) throw new Error(`issuing the bench key: ${issued.status} ${JSON.stringify(body)}`);
  return key;
}

/** A router with the zero-latency miner at `minerUrl` (token t0) and one redundancy-1 session, 0, on it: what bench:compare and bench:native measure. */
export function provisionOneSession(origin: string, minerUrl: string, name: string): Promise<void> {
  return provision({
    origin,
    adminKey: DEV_ADMIN_TOKEN,
    miners: [{ id: "bench-zero", url: minerUrl, credential: "t0", models: ["bench-zero"], max_concurrency: 256 }],
    sessions: [{ id: 0, name, model: "bench-zero", redundancy: 1 }],
  });
}
