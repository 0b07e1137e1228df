import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { KEY_CACHE_TTL_MS } from "../workers/gateway/key-cache";
import { ledgerStub, quotaStub } from "../domain/objects/stubs";
import { fetchWorker, gatewayCustomer, uniq } from "./helpers";

type Envelope = { request_id: string | null; status: "ok" | "failed"; error: { code: string } | null };
type Usage = { request_id: string; key_id: string; status: string; cost_micros: number };

/** A customer with one key, and a session served by a fleet miner behind the alias "default". */
async function customer(options: { balance?: number; key?: Record<string, unknown> } = {}) {
  const { id, issued, vars } = await gatewayCustomer("fast", options);
  /** One completion; `settled` waits for the billing the gateway does after answering. */
  const complete = async (body: Record<string, unknown> = {}) => {
    const { response, settled } = await fetchWorker(
      new Request("http://gateway.test/v1/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${issued.key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "default", prompt: "hi", max_tokens: 160, ...body }),
      }),
      vars,
    );
    return { status: response.status, body: (await response.json()) as Envelope, settled };
  };
  const ledger = ledgerStub(env, id);
  return { id, keyId: issued.id, complete, ledger };
}

/** Revokes a key in the Ledger itself, as an admin call served by another isolate would: this isolate is not told. */
const revokeElsewhere = (c: Awaited<ReturnType<typeof customer>>) => runInDurableObject(c.ledger, (ledger) => ledger.revokeKey(c.keyId));

describe("the gateway's hot path", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("asks the Ledger nothing before dispatch once the key's state is cached, and sees a revocation by the next billing", async () => {
    const c = await customer();
    const warm = await c.complete();
    expect(warm.status).toBe(200);
    await warm.settled();
    await revokeElsewhere(c);

    // Served: had admission asked the Ledger, the revoked key would have been refused.
    const cached = await c.complete();
    expect(cached.status).toBe(200);
    // Its billing brings the key's state back from the Ledger: revoked, so the next request is refused.
    await cached.settled();
    const refused = await c.complete();
    expect(refused.status).toBe(401);
    expect(refused.body.error?.code).toBe("invalid_api_key");
  });

  it("refuses a key revoked in another isolate once the cache's time has passed", async () => {
    const c = await customer();
    const warm = await c.complete();
    expect(warm.status).toBe(200);
    await warm.settled();
    await revokeElsewhere(c);

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + KEY_CACHE_TTL_MS);
    const refused = await c.complete();
    expect(refused.status).toBe(401);
    expect(refused.body.error?.code).toBe("invalid_api_key");
  });

  it("counts the worst case of requests admitted but not yet billed against the spend limit", async () => {
    // Each request may cost up to 33 micros (a 3-byte prompt at 100/1k metered tokens, 160 completion tokens at 200/1k);
    // the warm-up asks for one token, so it spends about 1 of the 50.
    const c = await customer({ key: { spend_limit_micros: 50 } });
    const warm = await c.complete({ max_tokens: 1 });
    expect(warm.status).toBe(200);
    await warm.settled();

    // Spent ~1: either fits under 50 alone, not both at once.
    const both = await Promise.all([c.complete({ prompt: "one" }), c.complete({ prompt: "two" })]);
    await Promise.all(both.map((r) => r.settled()));
    expect(both.map((r) => r.status).sort()).toEqual([200, 402]);
    expect(both.find((r) => r.status === 402)?.body.error?.code).toBe("spend_limit_reached");
  });
});

describe("rate limits taken in blocks", () => {
  it("counts a key's requests at its Quota object a block at a time, and spends the block without asking", async () => {
    // 40 per minute: blocks of 2.
    const c = await customer({ key: { requests_per_minute: 40 } });
    const quota = quotaStub(env, `key:${c.keyId}`);
    const remaining = async () => {
      const d = await quota.consume([{ name: "requests", limit: 40, windowS: 60, cost: 0 }]);
      return d.ok ? d.remaining["requests"] : -1;
    };
    expect((await c.complete()).status).toBe(200);
    expect(await remaining()).toBe(38);
    // Served from the block this isolate holds: the Quota object is not asked.
    expect((await c.complete()).status).toBe(200);
    expect(await remaining()).toBe(38);
    expect((await c.complete()).status).toBe(200);
    expect(await remaining()).toBe(36);
  });

  it("never grants past the limit: the last block is what remains, then 429", async () => {
    const quota = quotaStub(env, uniq("block"));
    const take = { name: "requests", limit: 5, windowS: 60 };
    const grants = [];
    for (let i = 0; i < 4; i++) grants.push(await quota.reserveBlock(take, [], 2));
    expect(grants.map((g) => (g.ok ? g.granted : 0))).toEqual([2, 2, 1, 0]);
    expect(grants[3]).toMatchObject({ ok: false, rule: "requests", limit: 5 });
  });
});

describe("usage recorded after the response", () => {
  it("is billed exactly once however often the same request id is replayed, recorded again, or parked", async () => {
    const c = await customer({ balance: 5_000_000 });
    const first = await c.complete({ request_id: "fast-once-1" });
    expect(first.status).toBe(200);
    await first.settled();
    const replayed = await Promise.all([c.complete({ request_id: "fast-once-1" }), c.complete({ request_id: "fast-once-1" })]);
    await Promise.all(replayed.map((r) => r.settled()));
    expect(replayed.map((r) => r.status)).toEqual([200, 200]);

    const usage = (await runInDurableObject(c.ledger, (ledger) => ledger.usage({ limit: 50 }))) ?? [];
    const mine = usage.filter((u: Usage) => u.request_id === "fast-once-1");
    expect(mine).toHaveLength(1);
    const record = mine[0];
    if (!record) throw new Error("no usage record");
    const charged = record.cost_micros;
    expect(charged).toBeGreaterThan(0);

    // The after-response path retried after a lost reply, and then parked the record anyway: still billed once.
    const { id: _id, at: _at, ...input } = record;
    expect((await c.ledger.recordUsage(input)).billed).toBe(false);
    const quota = quotaStub(env, `key:${c.keyId}`);
    await quota.parkUsage(c.id, input);
    await quota.parkUsage(c.id, input);
    expect(await quota.parkedCount()).toBe(1);
    expect(await runDurableObjectAlarm(quota)).toBe(true);
    expect(await quota.parkedCount()).toBe(0);

    expect(await c.ledger.balance()).toMatchObject({ balance_micros: 5_000_000 - charged, spent_micros: charged });
    expect(((await c.ledger.usage({ limit: 50 })) ?? []).filter((u) => u.request_id === "fast-once-1")).toHaveLength(1);
  });

  it("brings a parked record to the Ledger by the Quota object's alarm, once", async () => {
    const c = await customer({ balance: 1_000_000 });
    const quota = quotaStub(env, `key:${c.keyId}`);
    const usage = {
      request_id: "fast-parked-1",
      key_id: c.keyId,
      model: "default",
      router_pool: "local",
      session_id: 0,
      task_id: 0,
      prompt_tokens: 10,
      completion_tokens: 20,
      latency_ms: 5,
      status: "ok" as const,
      error_code: null,
      cost_micros: 7,
    };
    await quota.parkUsage(c.id, usage);
    expect(await quota.parkedCount()).toBe(1);
    // Not yet in the Ledger: the record waits for the alarm.
    expect(await c.ledger.balance()).toMatchObject({ balance_micros: 1_000_000, spent_micros: 0 });

    expect(await runDurableObjectAlarm(quota)).toBe(true);
    expect(await quota.parkedCount()).toBe(0);
    expect(await c.ledger.balance()).toMatchObject({ balance_micros: 1_000_000 - 7, spent_micros: 7 });
    // A second park of the same record (a retry of the park itself) is recorded by the Ledger once.
    await quota.parkUsage(c.id, usage);
    await runDurableObjectAlarm(quota);
    expect(await c.ledger.balance()).toMatchObject({ balance_micros: 1_000_000 - 7, spent_micros: 7 });
    expect(((await c.ledger.usage({ limit: 50 })) ?? []).filter((u) => u.request_id === "fast-parked-1")).toHaveLength(1);
  });
});
