import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, call, fetchWorker, gatewayCustomer, uniq } from "../../helpers";

const WALLET = "/neuroshard/api/v1/wallet";
const UNIT = 1_000_000;

const ledger = (customerId: string) => env.LEDGERS.get(env.LEDGERS.idFromName(`customer:${customerId}`));

type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };
type Balance = { balances: { available: number; staked: number; pending: number; total: number } };
type KeyRecord = { id: string; key: string; scopes: string[]; spent_micros: number };

/** An account with `balance` micros and one key issued with `spec` (the admin API's fields). */
async function account(spec: Record<string, unknown>, balance = 10 * UNIT): Promise<{ id: string; keyId: string; key: string; scopes: string[] }> {
  const id = uniq("scoped");
  expect((await admin("/v1/admin/customers", "POST", { id, name: id, balance_micros: balance })).status).toBe(201);
  const issued = await admin(`/v1/admin/customers/${id}/keys`, "POST", spec);
  expect(issued.status, await issued.clone().text()).toBe(201);
  const record = (await issued.json()) as KeyRecord;
  return { id, keyId: record.id, key: record.key, scopes: record.scopes };
}

const post = (path: string, key: string, json: unknown) => call(`${WALLET}${path}`, { method: "POST", key, json });
/** A send under a configuration of the test's own (`vars`). */
const sendUnder = (vars: Record<string, string>, key: string, to: string, amount: number) =>
  fetchWorker(
    new Request(`http://router.test${WALLET}/send`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ to, amount }),
    }),
    vars,
  );
const balanceOf = async (key: string) => ((await (await call(`${WALLET}/balance`, { key })).json()) as Balance).balances;
const spentBy = async (customerId: string) => {
  const { keys } = (await (await admin(`/v1/admin/customers/${customerId}/keys`, "GET")).json()) as { keys: KeyRecord[] };
  return keys.map((k) => k.spent_micros);
};

describe("keys' scopes: a key moves money only when granted wallet:move", () => {
  it("refuses the issue's restricted key on send, stake and unstake (403 naming the scope), before reading the body; reads are allowed", async () => {
    const other = await account({});
    // The key of the report: no model it may use, and a spend limit of one micro. It is given the default scopes.
    const me = await account({ allowed_models: ["nothing"], requests_per_minute: 30, spend_limit_micros: 1 });
    expect(me.scopes).toEqual(["completions", "wallet:read"]);
    const moves: [string, unknown][] = [
      ["/send", { to: other.id, amount: 5 }],
      ["/stake", { amount: 10, duration_days: 3650 }],
      ["/unstake", { amount: 1 }],
      // A body the schema refuses: the scope is refused first, so the key learns nothing of the schema.
      ["/send", { nonsense: true }],
    ];
    for (const [path, body] of moves) {
      const res = await post(path, me.key, body);
      expect(res.status, path).toBe(403);
      expect(await res.json(), path).toEqual({
        error: {
          code: "SCOPE_MISSING",
          message: "this key lacks the scope wallet:move",
          details: { required_scope: "wallet:move", scopes: ["completions", "wallet:read"] },
        },
      });
    }
    expect(await balanceOf(me.key)).toEqual({ available: 10, staked: 0, pending: 0, total: 10 });
    expect(await balanceOf(other.key)).toEqual({ available: 10, staked: 0, pending: 0, total: 10 });
    const list = await call(`${WALLET}/transactions`, { key: me.key });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { transactions: { type: string }[] }).transactions.map((t) => t.type)).toEqual(["credit"]);

    // The Ledger is the authority on it, whatever reaches it: a send or stake made with this key's id moves nothing.
    const bySend = await ledger(me.id).send({ to: other.id, amountMicros: UNIT, feeMicros: 0, memo: "", idempotencyKey: null, keyId: me.keyId }, Date.now());
    expect(bySend).toMatchObject({ ok: false, status: 403, code: "scope_missing" });
    const byStake = await ledger(me.id).stake({ amountMicros: UNIT, durationDays: 3650, multiplierBps: 30_000, keyId: me.keyId }, Date.now());
    expect(byStake).toMatchObject({ ok: false, status: 403, code: "scope_missing" });
    expect(await balanceOf(me.key)).toEqual({ available: 10, staked: 0, pending: 0, total: 10 });
  });

  it("a key without wallet:read may not read the wallet, and one without completions may not complete", async () => {
    const mover = await account({ scopes: ["wallet:move"] });
    const read = await call(`${WALLET}/balance`, { key: mover.key });
    expect(read.status).toBe(403);
    expect(((await read.json()) as ErrorBody).error.details).toMatchObject({ required_scope: "wallet:read" });

    const c = await gatewayCustomer("scoped-gw", { key: { scopes: ["wallet:read"] } });
    const res = await fetchWorker(
      new Request("http://router.test/v1/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${c.issued.key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "default", prompt: "hello", max_tokens: 4 }),
      }),
      c.vars,
    );
    expect(res.response.status).toBe(403);
    expect(JSON.stringify(await res.response.json())).toContain("scope_missing");
  });

  it("scopes are set at issue and at rotation, validated by name; a rotation without scopes keeps them", async () => {
    const id = uniq("scoped");
    expect((await admin("/v1/admin/customers", "POST", { id, name: id, balance_micros: UNIT })).status).toBe(201);
    const bad = await admin(`/v1/admin/customers/${id}/keys`, "POST", { scopes: ["wallet:steal"] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain("scopes");
    expect((await admin(`/v1/admin/customers/${id}/keys`, "POST", { scopes: [] })).status).toBe(400);

    const key = (await (await admin(`/v1/admin/customers/${id}/keys`, "POST", {})).json()) as KeyRecord;
    expect(key.scopes).toEqual(["completions", "wallet:read"]);
    const other = await account({});
    expect((await post("/send", key.key, { to: other.id, amount: 0.5 })).status).toBe(403);
    const granted = await admin(`/v1/admin/customers/${id}/keys/${key.id}/rotate`, "POST", { scopes: ["wallet:move", "wallet:read", "wallet:move"] });
    expect(granted.status).toBe(200);
    const rotated = (await granted.json()) as KeyRecord;
    expect(rotated.scopes).toEqual(["wallet:read", "wallet:move"]);
    expect((await post("/send", key.key, { to: other.id, amount: 0.5 })).status).toBe(401);
    expect((await post("/send", rotated.key, { to: other.id, amount: 0.5 })).status).toBe(200);
    const again = await admin(`/v1/admin/customers/${id}/keys/${key.id}/rotate`, "POST");
    expect(again.status).toBe(200);
    expect(((await again.json()) as KeyRecord).scopes).toEqual(["wallet:read", "wallet:move"]);
    expect((await admin(`/v1/admin/customers/${id}/keys/${key.id}/rotate`, "POST", { scopes: ["root"] })).status).toBe(400);
  });
});

describe("keys' spend limits count wallet moves", () => {
  it("counts a granted key's sends (with their fee) and stakes against its spend limit: past it, refused and nothing moved", async () => {
    const other = await account({});
    const me = await account({ scopes: ["wallet:read", "wallet:move"], spend_limit_micros: 3 * UNIT });
    const send = (amount: number) => sendUnder({ WALLET_SEND_FEE_MICROS: "100000" }, me.key, other.id, amount);
    expect((await (await send(1)).response.json()) as Record<string, unknown>).toMatchObject({ amount: 1, fee: 0.1 });
    expect((await post("/stake", me.key, { amount: 1.5, duration_days: 30 })).status).toBe(200);
    expect(await spentBy(me.id)).toEqual([2_600_000]);

    // 0.4 left: a send of 0.35 with its fee of 0.1 passes it, a stake of 0.5 too.
    const over = (await send(0.35)).response;
    expect(over.status).toBe(402);
    expect(await over.json()).toEqual({
      error: {
        code: "SPEND_LIMIT_REACHED",
        message: "this move would exceed the key's spend limit",
        details: { spend_limit_micros: 3 * UNIT, spent_micros: 2_600_000, move_micros: 450_000 },
      },
    });
    expect((await post("/stake", me.key, { amount: 0.5, duration_days: 30 })).status).toBe(402);
    expect(await balanceOf(me.key)).toEqual({ available: 7.4, staked: 1.5, pending: 0, total: 8.9 });
    expect((await balanceOf(other.key)).available).toBe(11);
    // What is left may still be spent.
    expect((await send(0.3)).response.status).toBe(200);
    expect(await spentBy(me.id)).toEqual([3 * UNIT]);
  });
});

describe("wallet routes are rate-limited per key", () => {
  it("answers 429 with Retry-After past WALLET_MOVES_PER_MINUTE, and past the key's requests_per_minute for any wallet call; nothing moves", async () => {
    const other = await account({});
    const me = await account({ scopes: ["wallet:read", "wallet:move"], requests_per_minute: 100 });
    const send = (amount: number) => sendUnder({ WALLET_MOVES_PER_MINUTE: "2" }, me.key, other.id, amount);
    expect((await send(1)).response.status).toBe(200);
    expect((await send(1)).response.status).toBe(200);
    const limited = (await send(1)).response;
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ error: { code: "RATE_LIMITED", details: { limit: "wallet_moves", retry_after: expect.any(Number) } } });
    expect((await balanceOf(me.key)).available).toBe(8);
    // Reads are not moves: still answered.
    expect((await call(`${WALLET}/balance`, { key: me.key })).status).toBe(200);

    const slow = await account({ scopes: ["wallet:read", "wallet:move"], requests_per_minute: 1 });
    expect((await call(`${WALLET}/balance`, { key: slow.key })).status).toBe(200);
    const second = await call(`${WALLET}/transactions`, { key: slow.key });
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).not.toBeNull();
    expect(((await second.json()) as ErrorBody).error.details).toMatchObject({ limit: "requests" });
    expect((await post("/stake", slow.key, { amount: 10, duration_days: 3650 })).status).toBe(429);
  });
});
