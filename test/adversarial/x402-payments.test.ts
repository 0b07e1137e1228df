import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { x402Client } from "@x402/core/client";
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import { ExactEvmScheme } from "@x402/evm";
import { wrapFetchWithPaymentFromConfig } from "@x402/fetch";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { describe, expect, inject, it } from "vitest";
import { z } from "zod";
import worker from "../../workers/index";
import { createSession, minersFor } from "../helpers";

/**
 * x402 payments under attack: a forged payment must not burn the genuine
 * one, one payment buys one piece of work, a refusal before work spends
 * nothing, and only successful fresh work is ever settled.
 */

const PAY_TO = "0x9999999999999999999999999999999999999999";
const NETWORK = "eip155:84532";
const Activity = z.object({ settlements: z.array(z.object({ payer: z.string(), amount: z.string() })) });
const settlementsOf = async (payer: string) =>
  Activity.parse(await (await fetch(`${inject("facilitator").url}/activity`)).json()).settlements.filter((s) => s.payer.toLowerCase() === payer.toLowerCase());
const Completion = z.object({ task_id: z.number(), request_id: z.string().nullable() });
const Signed = z.object({ authorization: z.object({ from: z.string(), nonce: z.string() }).passthrough(), signature: z.string() });

/** The Worker with x402 enabled, answering on the given default session. */
function router(sessionId: number): typeof fetch {
  return async (input, init) =>
    worker.fetch(
      new Request(input, init),
      { ...env, X402_ROUTES: "all", X402_FACILITATOR_URL: inject("facilitator").url, X402_PAY_TO: PAY_TO, DEFAULT_SESSION_ID: String(sessionId) },
      createExecutionContext(),
    );
}

const URL_ = "http://router.test/api/v1/x402/completions";
const post = (body: unknown, payment?: string): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...(payment ? { "PAYMENT-SIGNATURE": payment } : {}) },
  body: JSON.stringify(body),
});

/** A signed payment for the completions route, as an x402 client makes it after the 402. */
async function paymentFor(call: typeof fetch, account: PrivateKeyAccount) {
  const unpaid = await call(URL_, post({ prompt: "price?" }));
  expect(unpaid.status).toBe(402);
  const required = decodePaymentRequiredHeader(unpaid.headers.get("PAYMENT-REQUIRED") ?? "");
  const payload = await new x402Client().register(NETWORK, new ExactEvmScheme(account)).createPaymentPayload(required);
  return { payload, header: encodePaymentSignatureHeader(payload) };
}

async function session(fleet: Parameters<typeof minersFor>[0] = ["fastA"]) {
  const { model } = await minersFor(fleet);
  return createSession({ model });
}

describe("x402 payments under attack", () => {
  it("does not let a forged payment with a victim's payer and nonce burn the genuine payment", async () => {
    const call = router(await session());
    const victim = privateKeyToAccount(generatePrivateKey());
    const genuine = await paymentFor(call, victim);
    // The attacker copies the victim's authorization (payer, nonce) and signs it with its own key.
    const attackers = await paymentFor(call, privateKeyToAccount(generatePrivateKey()));
    const forged = encodePaymentSignatureHeader({
      ...genuine.payload,
      payload: { authorization: Signed.parse(genuine.payload.payload).authorization, signature: Signed.parse(attackers.payload.payload).signature },
    });

    expect((await call(URL_, post({ prompt: "forged" }, forged))).status).toBe(402);
    const paid = await call(URL_, post({ prompt: "genuine" }, genuine.header));
    expect(paid.status).toBe(200);
    expect(await settlementsOf(victim.address)).toHaveLength(1);
  });

  it("serves one payment used twice at once only once", async () => {
    const call = router(await session(["fastB"]));
    const payer = privateKeyToAccount(generatePrivateKey());
    const { header } = await paymentFor(call, payer);
    const statuses = (await Promise.all([call(URL_, post({ prompt: "twice a" }, header)), call(URL_, post({ prompt: "twice b" }, header))])).map((r) => r.status);
    expect(statuses.sort()).toEqual([200, 402]);
    expect(await settlementsOf(payer.address)).toHaveLength(1);
  });

  it("leaves a payment refused before any work (a 400) usable for the corrected request", async () => {
    const call = router(await session(["fastC"]));
    const payer = privateKeyToAccount(generatePrivateKey());
    const { header } = await paymentFor(call, payer);
    const invalid = await call(URL_, post({ prompt: "" }, header));
    expect(invalid.status).toBe(400);
    expect(await settlementsOf(payer.address)).toHaveLength(0);
    const corrected = await call(URL_, post({ prompt: "now valid" }, header));
    expect(corrected.status).toBe(200);
    expect(await settlementsOf(payer.address)).toHaveLength(1);
  });

  it("never settles paid work that failed, and the router does not take that authorization again", async () => {
    const call = router(await session(["failing"]));
    const payer = privateKeyToAccount(generatePrivateKey());
    const { header } = await paymentFor(call, payer);
    expect((await call(URL_, post({ prompt: "miners fail" }, header))).status).toBe(502);
    expect(await settlementsOf(payer.address)).toHaveLength(0);
    expect((await call(URL_, post({ prompt: "miners fail" }, header))).status).toBe(402);
  });

  it("keeps each payer's request ids its own, and charges a payer's retry nothing", async () => {
    const call = router(await session());
    const [alice, bob] = [privateKeyToAccount(generatePrivateKey()), privateKeyToAccount(generatePrivateKey())];
    const pay = (account: PrivateKeyAccount) => wrapFetchWithPaymentFromConfig(call, { schemes: [{ network: NETWORK, client: new ExactEvmScheme(account) }] });
    const ask = { prompt: "paid once", request_id: "paid-shared-1" };

    const first = await pay(alice)(URL_, post(ask));
    expect(first.status).toBe(200);
    const firstBody = Completion.parse(await first.json());
    expect(firstBody.request_id).toBe("paid-shared-1");

    // Without a payment nothing is answered, not even a known request id.
    expect((await call(URL_, post(ask))).status).toBe(402);

    // Alice's retry proves she is the payer, is answered from her task, and is not charged again.
    const retry = await pay(alice)(URL_, post(ask));
    expect(retry.status).toBe(200);
    expect(retry.headers.get("x-idempotent-replay")).toBe("true");
    expect(Completion.parse(await retry.json())).toEqual(firstBody);
    expect(await settlementsOf(alice.address)).toHaveLength(1);

    // Bob's identical request is his own work, paid by him.
    const bobs = await pay(bob)(URL_, post(ask));
    expect(bobs.status).toBe(200);
    expect(bobs.headers.get("x-idempotent-replay")).toBe("false");
    expect(Completion.parse(await bobs.json()).task_id).not.toBe(firstBody.task_id);
    expect(await settlementsOf(bob.address)).toHaveLength(1);
  });

  it("charges a retry whose first answer was never paid for (its settlement failed)", async () => {
    const call = router(await session(["fastB"]));
    const payer = privateKeyToAccount(generatePrivateKey());
    const pay = wrapFetchWithPaymentFromConfig(call, { schemes: [{ network: NETWORK, client: new ExactEvmScheme(payer) }] });
    const refuse = (on: boolean) => fetch(`${inject("facilitator").url}/refuse-settlement`, { method: "POST", body: JSON.stringify({ payer: payer.address, refuse: on }) });
    const ask = { prompt: "unpaid work", request_id: "settle-fails-1" };

    await refuse(true);
    const unpaid = await pay(URL_, post(ask));
    expect(unpaid.status).toBe(402);
    expect(await settlementsOf(payer.address)).toHaveLength(0);

    // The work exists, but a replay of it is no free answer: this time it is settled.
    await refuse(false);
    const retry = await pay(URL_, post(ask));
    expect(retry.status).toBe(200);
    expect(retry.headers.get("x-idempotent-replay")).toBe("true");
    expect(await settlementsOf(payer.address)).toHaveLength(1);
  });

  it("answers a payer's retried delegate from its task, marked as a replay and not charged again", async () => {
    const call = router(await session(["fastC"]));
    const payer = privateKeyToAccount(generatePrivateKey());
    const pay = wrapFetchWithPaymentFromConfig(call, { schemes: [{ network: NETWORK, client: new ExactEvmScheme(payer) }] });
    const ask = { objective: "summarise paid work", request_id: "paid-delegate-1" };
    const url = "http://router.test/api/v2/x402/delegate";
    const first = await pay(url, post(ask));
    expect(first.status).toBe(200);
    expect(first.headers.get("x-idempotent-replay")).toBe("false");
    const retry = await pay(url, post(ask));
    expect(retry.status).toBe(200);
    expect(retry.headers.get("x-idempotent-replay")).toBe("true");
    expect(await retry.json()).toEqual(await first.json());
    expect(await settlementsOf(payer.address)).toHaveLength(1);
  });
});
