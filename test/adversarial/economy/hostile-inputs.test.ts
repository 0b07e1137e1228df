import { describe, expect, it } from "vitest";
import { z } from "zod";
import { admin, call, fetchWorker, gatewayCustomer, uniq } from "../../helpers";
import { TEST_ADMIN_KEY, TEST_ROUTER_KEY } from "../../keys";

/**
 * Client input that names an entry of a table read from JSON config (a
 * gateway model alias) must find only the table's own entries: the names
 * every JavaScript object inherits are unknown models, not Object's
 * prototype taken for a misconfigured alias.
 */

const Envelope = z.object({ status: z.literal("failed"), error: z.object({ code: z.string(), message: z.string() }) });
const OpenAiError = z.object({ error: z.object({ code: z.string().nullable().optional(), message: z.string() }) });

async function gatewayCall(path: string, key: string, vars: Record<string, string>, json: unknown) {
  const { response, settled } = await fetchWorker(
    new Request(`http://gateway.test${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(json) }),
    vars,
  );
  await settled();
  return response;
}

describe("model names from Object's prototype", () => {
  const names = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];

  it("are unknown models on the envelope route (404 model_not_found), not 503", async () => {
    const c = await gatewayCustomer("proto");
    for (const model of names) {
      const res = await gatewayCall("/v1/completions", c.issued.key, c.vars, { model, prompt: "hi", max_tokens: 8 });
      const text = await res.text();
      expect(res.status, `${model}: ${text}`).toBe(404);
      const body = Envelope.parse(JSON.parse(text));
      expect(body.error.code).toBe("model_not_found");
      expect(body.error.message).toContain(model);
    }
  });

  it("are unknown models on the OpenAI-compatible routes too", async () => {
    const c = await gatewayCustomer("proto-oai");
    for (const model of names) {
      for (const [path, json] of [
        ["/openai/v1/completions", { model, prompt: "hi", max_tokens: 8 }],
        ["/v1/chat/completions", { model, messages: [{ role: "user", content: "hi" }], max_tokens: 8 }],
      ] as const) {
        const res = await gatewayCall(path, c.issued.key, c.vars, json);
        const text = await res.text();
        expect(res.status, `${path} ${model}: ${text}`).toBe(404);
        expect(OpenAiError.parse(JSON.parse(text)).error.message).toContain(model);
      }
    }
  });
});

/**
 * Wallet amounts are read from the text the client wrote, never through a
 * float: a JSON number with an exponent (`1e3`) or more digits than six
 * decimals hold is refused, not rounded to what JSON.parse made of it; the
 * seed's own numbers (`100.0`, `10000.00`) keep working.
 */
describe("wallet amounts as written", () => {
  const WALLET = "/neuroshard/api/v1/wallet";
  const UNIT = 1_000_000;
  const WalletError = z.object({ error: z.object({ code: z.string(), details: z.record(z.string(), z.unknown()).optional() }) });
  const Balance = z.object({ balances: z.object({ available: z.number(), staked: z.number() }) });

  async function account(balance: number) {
    const id = uniq("amt");
    expect((await admin("/v1/admin/customers", "POST", { id, name: id, balance_micros: balance })).status).toBe(201);
    const issued = await admin(`/v1/admin/customers/${id}/keys`, "POST", { scopes: ["wallet:read", "wallet:move"] });
    return { id, key: z.object({ key: z.string() }).parse(await issued.json()).key };
  }
  /** A POST whose body is sent as written (JSON.stringify would rewrite the numbers). */
  // Under a wallet-move limit this test does not reach: it makes more moves a minute than the default 10.
  const raw = async (path: string, key: string, body: string) =>
    (
      await fetchWorker(
        new Request(`http://router.test${WALLET}${path}`, { method: "POST", body, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" } }),
        { WALLET_MOVES_PER_MINUTE: "1000" },
      )
    ).response;
  const available = async (key: string) => Balance.parse(await (await call(`${WALLET}/balance`, { key })).json()).balances;

  it("refuses an exponent or excess digits in a JSON-number amount on send, stake and unstake, naming amount", async () => {
    const me = await account(5000 * UNIT);
    const other = await account(0);
    const amounts = ["1e3", "1E3", "1.0e2", "10e-1", "0.10000000000000000001", "100.0000000000000000001"];
    for (const amount of amounts) {
      for (const [path, body] of [
        ["/send", `{"to": "${other.id}", "amount": ${amount}}`],
        ["/stake", `{"amount": ${amount}, "duration_days": 30}`],
        ["/unstake", `{"amount": ${amount}}`],
      ] as const) {
        const res = await raw(path, me.key, body);
        const text = await res.text();
        expect(res.status, `${path} ${amount}: ${text}`).toBe(400);
        const error = WalletError.parse(JSON.parse(text)).error;
        expect(error.code).toBe("INVALID_REQUEST");
        expect(error.details?.["field"], `${path} ${amount}`).toBe("amount");
      }
    }
    expect(await available(me.key)).toEqual({ available: 5000, staked: 0 });
    expect((await available(other.key)).available).toBe(0);
  });

  it("keeps the seed's numbers: 100.0 sends, 1000.00 stakes, exactly", async () => {
    const me = await account(5000 * UNIT);
    const other = await account(0);
    const sent = await raw("/send", me.key, `{"to": "${other.id}", "amount": 100.0, "memo": "Payment for services"}`);
    expect(sent.status, await sent.clone().text()).toBe(200);
    const staked = await raw("/stake", me.key, `{"amount": 1000.00, "duration_days": 30}`);
    expect(staked.status, await staked.clone().text()).toBe(200);
    expect((await available(other.key)).available).toBe(100);
    expect((await available(me.key)).staked).toBe(1000);
  });
});

/**
 * A body of many unknown keys gets a short error: at most a few issues and
 * keys are listed (with a count of the rest), each message cut short, and
 * the error still names the first field. A 539 KB body once got a 1.18 MB
 * error listing every key twice.
 */
describe("errors stay small for huge bodies of unknown keys", () => {
  const hugeBody = (base: Record<string, unknown>) => {
    const body: Record<string, unknown> = { ...base };
    for (let i = 0; i < 30_000; i++) body[`unknown_key_${i}`] = i;
    return JSON.stringify(body);
  };
  const LIMIT = 4096;

  it("on router, admin, gateway and wallet routes", async () => {
    const c = await gatewayCustomer("huge", { key: { scopes: ["completions", "wallet:read", "wallet:move"] } });
    const cases = [
      // Unknown keys inside a strict part of a router-key body (the delegate policy).
      { path: "/api/v1/delegate", key: TEST_ROUTER_KEY, body: JSON.stringify({ session_id: c.sessionId, objective: "x", policy: JSON.parse(hugeBody({})) }), field: "policy" },
      { path: "/api/v1/admin/sessions", key: TEST_ADMIN_KEY, body: hugeBody({ id: 5, name: "s" }), field: "(body)" },
      { path: "/v1/admin/customers", key: TEST_ADMIN_KEY, body: hugeBody({ id: "huge-c", name: "n" }), field: "(body)" },
      { path: "/neuroshard/api/v1/wallet/send", key: c.issued.key, body: hugeBody({ to: c.id, amount: 1 }), field: "unknown_key_0" },
    ];
    for (const { path, key, body, field } of cases) {
      expect(body.length).toBeGreaterThan(500_000);
      const { response } = await fetchWorker(
        new Request(`http://router.test${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body }),
        c.vars,
      );
      const text = await response.text();
      expect(response.status, `${path}: ${text.slice(0, 300)}`).toBe(400);
      expect(text.length, path).toBeLessThan(LIMIT);
      // The field is named, the first unknown keys too, and how many more there are.
      expect(text, path).toContain(`"field":"${field}"`);
      expect(text, path).toContain("unknown_key_0");
      expect(text, path).not.toContain("unknown_key_29999");
      expect(text, path).toContain("29990 more");
    }
  });

  it("cuts short a field's echo and counts issues past the first ten", async () => {
    // Thirty failing fields of a strict admin body: ten listed, the rest counted.
    const bad: Record<string, unknown> = { id: -1, name: "x".repeat(300_000) };
    const res = await admin("/api/v1/admin/miners", "POST", { ...bad, url: "not a url", models: Array.from({ length: 30 }, () => 5) });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text.length).toBeLessThan(LIMIT);
    const details = z
      .object({ error: z.object({ details: z.object({ issues: z.array(z.object({ field: z.string() })), issues_omitted: z.number().optional() }) }) })
      .parse(JSON.parse(text)).error.details;
    expect(details.issues.length).toBeLessThanOrEqual(10);
    expect(details.issues.length + (details.issues_omitted ?? 0)).toBeGreaterThan(10);
  });
});
