import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { KEY_CACHE_TTL_MS } from "../workers/gateway/key-cache";
import { ledgerStub, quotaStub } from "../domain/objects/stubs";
import { fetchWorkerIn, gatewayCustomer } from "./helpers";
import { type Fault, observedObjects } from "./observed-objects";

/**
 * The Durable Object calls of a gateway request, counted at the Worker's
 * bindings (test/observed-objects.ts): what README "Usage and billing"
 * promises for a warm isolate, and billing exactly once when those calls fail.
 */

type Usage = { request_id: string; cost_micros: number };

/** A customer with one key (`key` fields as the admin API takes them), behind the alias "default" on a fresh session. */
async function customer(options: { balance?: number; key?: Record<string, unknown> } = {}) {
  const { id, issued, vars } = await gatewayCustomer("calls", options);
  /** Bindings that log (and may fail) the Worker's object calls. */
  const observe = (fault?: (call: string, nth: number) => Fault, whenFailed?: (call: string) => Promise<void>) =>
    observedObjects({ ...env, ...vars } as typeof env, fault, whenFailed);
  /**
   * One completion through `bindings`: OpenAI's chat shape, or with a
   * `request_id` (the client's idempotency key) the gateway's envelope route,
   * which takes one. `settled` waits for the billing that follows the answer.
   */
  const complete = async (bindings: typeof env, requestId?: string) => {
    const [path, body] =
      requestId === undefined
        ? ["/openai/v1/chat/completions", { model: "default", messages: [{ role: "user", content: "hi" }], max_tokens: 160 }]
        : ["/v1/completions", { model: "default", prompt: "hi", max_tokens: 160, request_id: requestId }];
    const { response, settled } = await fetchWorkerIn(
      new Request(`http://gateway.test${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${issued.key}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
      bindings,
    );
    return { status: response.status, body: (await response.json()) as Record<string, unknown>, settled };
  };
  return { id, keyId: issued.id, observe, complete };
}

const usageOf = async (customerId: string, requestId: string) => ((await ledgerStub(env, customerId).usage({ limit: 100 })) ?? []).filter((u: Usage) => u.request_id === requestId);

/**
 * The calls of the request's own path: the isolate's renewal of its run-time settings
 * (workers/config/run-time-settings.ts, one registry read per isolate and 5 s, in the
 * background) is left out, as it falls on whichever request comes after its time passed.
 */
const onPath = (calls: string[]) => calls.filter((call) => call !== "MINERS.runTimeSettings");

describe("a warm gateway request's Durable Object calls", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("calls no object but the Session before its answer, and at most one Ledger and one Quota call after it", async () => {
    // 6000 a minute: blocks of 300, so the block taken by the first request covers the rest.
    const c = await customer({ key: { requests_per_minute: 6000 } });
    const o = c.observe();
    const cold = await c.complete(o.env);
    expect(cold.status).toBe(200);
    // Cold: the key's state from its Ledger and a block of requests from its Quota object, before the Session.
    expect(onPath(o.since(0))).toEqual(["LEDGERS.keyState", "QUOTAS.reserveBlock", "SESSIONS.submit"]);
    await cold.settled();

    for (let i = 0; i < 3; i++) {
      const from = o.calls.length;
      const warm = await c.complete(o.env);
      expect(warm.status).toBe(200);
      // Answered after the Session's call alone: key, price, balance and rate limit from the isolate.
      expect(onPath(o.since(from))).toEqual(["SESSIONS.submit"]);
      await warm.settled();
      // Billed after the answer: one Ledger call for its batch, one report to the key's token window.
      expect(onPath(o.since(from)).sort()).toEqual(["LEDGERS.recordUsages", "QUOTAS.charge", "SESSIONS.submit"]);
    }
  });

  it("asks the Ledger again once the key's cached state is older than the cache time, and refuses a key revoked meanwhile", async () => {
    const c = await customer();
    const o = c.observe();
    const cold = await c.complete(o.env);
    expect(cold.status).toBe(200);
    await cold.settled();
    const ledger = ledgerStub(env, c.id);
    await runInDurableObject(ledger, (instance) => instance.revokeKey(c.keyId));

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + KEY_CACHE_TTL_MS);
    const from = o.calls.length;
    const refused = await c.complete(o.env);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: { code: "invalid_api_key" } });
    // One Ledger read, and nothing dispatched.
    expect(onPath(o.since(from))).toEqual(["LEDGERS.keyState"]);
  });
});

/** One usage record for the request, and the balance moved by exactly its cost since `before`. */
async function expectChargedOnce(customerId: string, requestId: string, before: { balance_micros: number; spent_micros: number } | null | undefined) {
  const records = await usageOf(customerId, requestId);
  expect(records).toHaveLength(1);
  const charged = records[0]?.cost_micros ?? 0;
  expect(charged).toBeGreaterThan(0);
  expect(await ledgerStub(env, customerId).balance()).toMatchObject({
    balance_micros: (before?.balance_micros ?? 0) - charged,
    spent_micros: (before?.spent_micros ?? 0) + charged,
  });
}

describe("usage recorded after the response", () => {
  it("is billed exactly once when the Ledger's reply is lost, the Ledger restarts, and the client retries with the same request id", async () => {
    const c = await customer({ balance: 5_000_000 });
    const warm = await c.complete(c.observe().env);
    await warm.settled();
    const before = await ledgerStub(env, c.id).balance();

    // The first billing call reaches the Ledger and records, its reply is lost, and the Ledger restarts before the retry.
    const restarts: string[] = [];
    const o = c.observe(
      (call, nth) => (call === "LEDGERS.recordUsages" && nth === 1 ? "after" : undefined),
      async (call) => {
        restarts.push(call);
        await runInDurableObject(ledgerStub(env, c.id), (_instance, state) => state.abort("restarted by the test")).catch(() => {});
      },
    );
    const first = await c.complete(o.env, "calls-once-1");
    expect(first.status).toBe(200);
    await first.settled();
    expect(restarts).toEqual(["LEDGERS.recordUsages"]);
    // The retry was sent and answered.
    expect(o.calls.filter((x) => x === "LEDGERS.recordUsages")).toHaveLength(2);

    // The client, not knowing, sends the same request again: the stored answer, billed again, recorded never twice.
    const again = await c.complete(o.env, "calls-once-1");
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: "ok", data: first.body["data"] });
    await again.settled();

    await expectChargedOnce(c.id, "calls-once-1", before);
  });

  it("is billed exactly once when every try fails and the record is parked, then the client retries and the parked record arrives too", async () => {
    const c = await customer({ balance: 5_000_000 });
    const warm = await c.complete(c.observe().env);
    await warm.settled();
    const before = await ledgerStub(env, c.id).balance();

    // The Ledger cannot be reached for the three tries of the first billing: the record is parked at the key's Quota object.
    const o = c.observe((call, nth) => (call === "LEDGERS.recordUsages" && nth <= 3 ? "before" : undefined));
    const first = await c.complete(o.env, "calls-parked-1");
    expect(first.status).toBe(200);
    await first.settled();
    const quota = quotaStub(env, `key:${c.keyId}`);
    expect(await quota.parkedCount()).toBe(1);
    expect(await usageOf(c.id, "calls-parked-1")).toHaveLength(0);

    // The client retries; this billing reaches the Ledger.
    const again = await c.complete(o.env, "calls-parked-1");
    expect(again.status).toBe(200);
    await again.settled();
    expect(await usageOf(c.id, "calls-parked-1")).toHaveLength(1);

    // The parked record arrives by the alarm: recorded already, so nothing is charged again.
    expect(await runDurableObjectAlarm(quota)).toBe(true);
    expect(await quota.parkedCount()).toBe(0);
    await expectChargedOnce(c.id, "calls-parked-1", before);
  });
});
