import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { z } from "zod";
import worker from "../../workers/index";
import { admin, call, createSession, minersFor, uniq, until } from "../helpers";
import { TEST_ROUTER_KEY } from "../keys";

/**
 * A request_id is an idempotency key within one caller's namespace: a
 * gateway customer, a router key, an x402 payer, a trial client. Nobody
 * reads, replays or even detects another caller's ids.
 */

/** The Worker under extra configuration, as a client reaches it. */
const worker_ =
  (vars: Record<string, string>) =>
  (path: string, init: { key?: string | null; json?: unknown; headers?: Record<string, string> } = {}) =>
    worker.fetch(
      new Request(`http://router.test${path}`, {
        method: init.json === undefined ? "GET" : "POST",
        headers: {
          ...(init.key ? { authorization: `Bearer ${init.key}` } : {}),
          ...(init.json === undefined ? {} : { "content-type": "application/json" }),
          ...init.headers,
        },
        ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
      }),
      { ...env, ...vars },
      createExecutionContext(),
    );

const Envelope = z.object({
  request_id: z.string().nullable(),
  status: z.string(),
  data: z.object({ task_id: z.number(), request_id: z.string().nullable(), choices: z.array(z.object({ text: z.string() })) }).nullable(),
  error: z.object({ code: z.string() }).nullable(),
});
const Usage = z.object({ usage: z.array(z.object({ request_id: z.string(), status: z.string(), cost_micros: z.number(), task_id: z.number().nullable() })) });
const Completion = z.object({ task_id: z.number(), request_id: z.string().nullable() });
const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

async function customerKey(): Promise<string> {
  const id = uniq("cust")
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-");
  expect((await admin("/v1/admin/customers", "POST", { id, name: id, billing: "prepaid", balance_micros: 10_000_000 })).status).toBe(201);
  return z.object({ key: z.string() }).parse(await (await admin(`/v1/admin/customers/${id}/keys`, "POST", {})).json()).key;
}

describe("request ids are namespaced per caller", () => {
  it("gives a gateway customer reusing another customer's request_id its own task, billed to it", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const gw = worker_({ GATEWAY_MODELS: JSON.stringify({ default: { pool: "local", session_id: sessionId } }) });
    const [alice, bob] = [await customerKey(), await customerKey()];
    const ask = { model: "default", prompt: "the same prompt", max_tokens: 32, request_id: "shared-1" };

    const first = Envelope.parse(await (await gw("/v1/completions", { key: alice, json: ask })).json());
    const second = Envelope.parse(await (await gw("/v1/completions", { key: bob, json: ask })).json());
    expect(first.status).toBe("ok");
    expect(second.status).toBe("ok");
    expect(second.data?.task_id).not.toBe(first.data?.task_id);
    // What each sees as its request id is its own, unchanged.
    expect(second).toMatchObject({ request_id: "shared-1", data: { request_id: "shared-1" } });
    // Billing follows the answer (in the isolate's batch, README "Usage and billing"): wait for the record.
    const billed = await until(async () => Usage.parse(await (await gw("/v1/usage", { key: bob })).json()).usage.find((u) => u.request_id === "shared-1"));
    expect(billed).toMatchObject({ status: "ok", task_id: second.data?.task_id });
    expect(billed?.cost_micros).toBeGreaterThan(0);

    // Another prompt under an id someone else used is no conflict: nothing tells Bob that id exists.
    const other = await gw("/v1/completions", { key: bob, json: { ...ask, prompt: "another prompt", request_id: "shared-2" } });
    await gw("/v1/completions", { key: alice, json: { ...ask, request_id: "shared-3" } });
    const probe = await gw("/v1/completions", { key: bob, json: { ...ask, prompt: "probing", request_id: "shared-3" } });
    expect(other.status).toBe(200);
    expect(probe.status).toBe(200);
  });

  it("gives two router keys separate namespaces", async () => {
    const { model } = await minersFor(["fastB"]);
    const sessionId = await createSession({ model });
    const router = worker_({ ROUTER_API_KEYS: `${TEST_ROUTER_KEY},second-router-key` });
    const ask = { prompt: "keyed prompt", request_id: "keyed-1" };
    const first = Completion.parse(await (await router(`/api/v1/completions/${sessionId}`, { key: TEST_ROUTER_KEY, json: ask })).json());
    const second = Completion.parse(await (await router(`/api/v1/completions/${sessionId}`, { key: "second-router-key", json: ask })).json());
    expect(second.task_id).not.toBe(first.task_id);
    expect(second.request_id).toBe("keyed-1");
    const conflict = await router(`/api/v1/completions/${sessionId}`, { key: "second-router-key", json: { ...ask, prompt: "changed" } });
    expect(conflict.status).toBe(409);
    expect(ErrorBody.parse(await conflict.json()).error.message).toContain("keyed-1");
  });

  it("does not let a keyed request plant an x402 request id that answers unpaid x402 calls", async () => {
    const { model } = await minersFor(["fastC"]);
    const sessionId = await createSession({ model });
    const router = worker_({ X402_ROUTES: "all", X402_FACILITATOR_URL: inject("facilitator").url, X402_PAY_TO: "0x9999999999999999999999999999999999999999" });
    const planted = await router(`/api/v1/completions/${sessionId}`, { key: TEST_ROUTER_KEY, json: { prompt: "free lunch", request_id: "x402.planted-1" } });
    expect(planted.status).toBe(200);
    const unpaid = await router(`/api/v1/x402/completions/${sessionId}`, { json: { prompt: "free lunch", request_id: "planted-1" } });
    expect(unpaid.status).toBe(402);
  });

  it("does not let a keyed request plant a trial client's request id", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const router = worker_({ TRIAL_ROUTES: "all", TRIAL_SESSION_IDS: String(sessionId) });
    const ip = "198.51.100.77";
    const planted = Completion.parse(
      await (await router(`/api/v1/completions/${sessionId}`, { key: TEST_ROUTER_KEY, json: { prompt: "trial prompt", max_tokens: 16, request_id: `trial.${ip}.t-1` } })).json(),
    );
    const trial = await router("/api/v1/trial/completions", { json: { prompt: "trial prompt", max_tokens: 16, request_id: "t-1" }, headers: { "CF-Connecting-IP": ip } });
    expect(trial.status).toBe(200);
    expect(trial.headers.get("x-idempotent-replay")).toBe("false");
    expect(Completion.parse(await trial.json()).task_id).not.toBe(planted.task_id);
  });
});

describe("replays and failures", () => {
  it("marks a replayed failure as a replay, like a replayed success", async () => {
    const { model } = await minersFor(["failing"]);
    const sessionId = await createSession({ model });
    const ask = { prompt: "fails", request_id: "fail-replay-1" };
    const first = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: ask });
    expect(first.status).toBe(502);
    const again = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: ask });
    expect(again.status).toBe(502);
    expect(again.headers.get("x-idempotent-replay")).toBe("true");
    expect(await again.json()).toEqual(await first.json());
  });

  it("leaves no task behind when no miner could take it, so the request_id runs once miners are back", async () => {
    const model = uniq("model-later");
    const sessionId = await createSession({ model });
    const ask = { prompt: "when miners return", request_id: "no-miners-1" };
    const refused = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: ask });
    expect(refused.status).toBe(503);
    expect(ErrorBody.parse(await refused.json()).error.code).toBe("no_miners_available");
    expect(z.object({ tasks: z.array(z.unknown()) }).parse(await (await call(`/api/v1/tasks/${sessionId}`)).json()).tasks).toHaveLength(0);
    expect(z.object({ task_count: z.number() }).parse(await (await call(`/api/v1/sessions/${sessionId}`)).json()).task_count).toBe(0);

    await minersFor(["fastB"], { model });
    // The session's view of the registry may lag a moment behind; the same request_id runs as soon as it sees the miner.
    const ran = await until(async () => {
      const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: ask });
      return res.status === 200 ? Completion.parse(await res.json()) : undefined;
    });
    expect(ran).toMatchObject({ task_id: 0, request_id: "no-miners-1" });
  });
});
