import { ExactEvmScheme } from "@x402/evm";
import { ExactEvmSchemeV1 } from "@x402/evm/v1";
import { wrapFetchWithPaymentFromConfig } from "@x402/fetch";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, inject, it } from "vitest";
import { createSession, minerRequests, minersFor, workerFetch } from "./helpers";

const PAY_TO = "0x9999999999999999999999999999999999999999";

type Activity = { settlements: { payer: string; amount: string; payTo: string; transaction: string }[]; verifications: number };
const activity = async () => (await (await fetch(`${inject("facilitator").url}/activity`)).json()) as Activity;

/** The Worker with x402 enabled, as a paying client reaches it. */
function router(vars: Record<string, string> = {}): typeof fetch {
  return workerFetch({ X402_ROUTES: "all", X402_FACILITATOR_URL: inject("facilitator").url, X402_PAY_TO: PAY_TO, ...vars });
}

function payingClient(base: typeof fetch) {
  const account = privateKeyToAccount(generatePrivateKey());
  const sent: Headers[] = [];
  const recording: typeof fetch = async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    sent.push(new Headers(request.headers));
    return base(request);
  };
  const pay = wrapFetchWithPaymentFromConfig(recording, { schemes: [{ network: "eip155:84532", client: new ExactEvmScheme(account) }] });
  return { account, sent, pay };
}

const decode = (header: string | null) =>
  JSON.parse(atob(header!)) as { x402Version: number; accepts: { scheme: string; network: string; amount: string; asset: string; payTo: string }[] };
const post = (body: unknown) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("x402", () => {
  it("answers 402 with the payment requirements on every paid route", async () => {
    const call = router();
    for (const [method, path, price] of [
      ["GET", "/api/v1/x402/ping", "1000"],
      ["POST", "/api/v1/x402/completions", "10000"],
      ["POST", "/api/v1/x402/completions/5", "10000"],
      ["POST", "/api/v1/x402/delegate", "20000"],
      ["POST", "/api/v2/x402/delegate", "20000"],
      ["POST", "/api/v1/x402/validate", "20000"],
      ["POST", "/api/v2/x402/validate", "20000"],
      ["POST", "/api/v1/x402/factcheck", "20000"],
    ] as const) {
      const res = await call(`http://router.test${path}`, method === "GET" ? {} : post({ prompt: "x" }));
      expect(res.status, path).toBe(402);
      const required = decode(res.headers.get("PAYMENT-REQUIRED"));
      expect(required.x402Version).toBe(2);
      expect(required.accepts[0], path).toMatchObject({
        scheme: "exact",
        network: "eip155:84532",
        amount: price,
        payTo: PAY_TO,
        asset: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
      });
    }
  });

  it("serves a paid request end to end, settles it once, and refuses the payment replayed", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const base = router({ DEFAULT_SESSION_ID: String(sessionId) });
    const { account, sent, pay } = payingClient(base);
    const before = (await activity()).settlements.length;

    const res = await pay("http://router.test/api/v1/x402/completions", post({ prompt: "paid prompt" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("PAYMENT-RESPONSE")).toBeTruthy();
    expect(((await res.json()) as { session_id: number }).session_id).toBe(sessionId);
    const after = await activity();
    expect(after.settlements).toHaveLength(before + 1);
    expect(after.settlements.at(-1)).toMatchObject({ payer: account.address, amount: "10000", payTo: PAY_TO });

    const signature = sent.find((h) => h.has("PAYMENT-SIGNATURE"))!.get("PAYMENT-SIGNATURE")!;
    const replay = await base("http://router.test/api/v1/x402/completions", {
      ...post({ prompt: "paid prompt" }),
      headers: { "content-type": "application/json", "PAYMENT-SIGNATURE": signature },
    });
    expect(replay.status).toBe(402);
    expect((await activity()).settlements).toHaveLength(before + 1);
  });

  it("settles a streamed completion once its stream has finished, and marks its task paid", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const base = router({ DEFAULT_SESSION_ID: String(sessionId) });
    const { account, pay } = payingClient(base);
    const before = (await activity()).settlements.length;

    const res = await pay("http://router.test/api/v1/x402/completions", post({ prompt: "paid stream", stream: true, request_id: "paid-stream-1" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("PAYMENT-RESPONSE")).toBeTruthy();
    const events = (await res.text()).split("\n\n").filter(Boolean);
    expect(events.at(-1)).toBe("data: [DONE]");
    const after = await activity();
    expect(after.settlements).toHaveLength(before + 1);
    expect(after.settlements.at(-1)).toMatchObject({ payer: account.address, amount: "10000", payTo: PAY_TO });

    // Its task is paid for: the payer's retry is answered from it and not charged again.
    const retry = await pay("http://router.test/api/v1/x402/completions", post({ prompt: "paid stream", stream: true, request_id: "paid-stream-1" }));
    expect(retry.status).toBe(200);
    expect(retry.headers.get("x-idempotent-replay")).toBe("true");
    await retry.text();
    expect((await activity()).settlements).toHaveLength(before + 1);
  });

  it("does not settle a streamed completion whose work failed after its stream began, nor take its payment again", async () => {
    // A miner that trickles its text (200 ms a piece) past the task's shortest timeout: text first, then the failure.
    const { model } = await minersFor(["trickle"]);
    const sessionId = await createSession({ model });
    const base = router({ DEFAULT_SESSION_ID: String(sessionId) });
    const { account, sent, pay } = payingClient(base);
    const ask = post({ prompt: "too slow to finish", stream: true, max_tokens: 200, timeout: 5, precommit_timeout: 2 });

    const res = await pay("http://router.test/api/v1/x402/completions", ask);
    expect(res.status).toBe(200);
    const events = (await res.text()).split("\n\n").filter(Boolean);
    expect(events.at(-1)).toBe("data: [DONE]");
    expect(events.length).toBeGreaterThan(2);
    expect(JSON.parse(events.at(-2)!.slice("data: ".length))).toMatchObject({ error: { code: expect.any(String) } });
    expect((await activity()).settlements.filter((s) => s.payer === account.address)).toHaveLength(0);

    const signature = sent.find((h) => h.has("PAYMENT-SIGNATURE"))!.get("PAYMENT-SIGNATURE")!;
    const again = await base("http://router.test/api/v1/x402/completions", { ...ask, headers: { "content-type": "application/json", "PAYMENT-SIGNATURE": signature } });
    expect(again.status).toBe(402);
    expect((await activity()).settlements.filter((s) => s.payer === account.address)).toHaveLength(0);
  });

  it("does not settle when the work fails", async () => {
    const sessionId = await createSession({ model: "model-no-miner-serves" });
    const { pay } = payingClient(router({ DEFAULT_SESSION_ID: String(sessionId) }));
    const before = (await activity()).settlements.length;
    const res = await pay("http://router.test/api/v1/x402/completions", post({ prompt: "will fail" }));
    expect(res.status).toBe(503);
    expect((await activity()).settlements).toHaveLength(before);
  });

  it("answers a retried request_id from the first task, without charging again (the retry proves the payer with a payment)", async () => {
    const { model } = await minersFor(["fastB"]);
    const sessionId = await createSession({ model });
    const base = router({ DEFAULT_SESSION_ID: String(sessionId) });
    const { pay } = payingClient(base);
    const first = await pay("http://router.test/api/v1/x402/completions", post({ prompt: "once", request_id: "paid-1" }));
    const firstBody = await first.json();
    const settled = (await activity()).settlements.length;
    const served = await minerRequests("fastB");
    const retry = await pay("http://router.test/api/v1/x402/completions", post({ prompt: "once", request_id: "paid-1" }));
    expect(retry.status).toBe(200);
    expect(retry.headers.get("x-idempotent-replay")).toBe("true");
    expect(await retry.json()).toEqual(firstBody);
    expect((await activity()).settlements).toHaveLength(settled);
    expect(await minerRequests("fastB")).toBe(served);
  });

  it("serves older clients: the v1 body on 402, and a v1 X-PAYMENT", async () => {
    const { model } = await minersFor(["fastC"]);
    const sessionId = await createSession({ model });
    const base = router({ DEFAULT_SESSION_ID: String(sessionId) });
    const unpaid = await base("http://router.test/api/v1/x402/completions", post({ prompt: "legacy" }));
    expect(unpaid.status).toBe(402);
    const v1 = (await unpaid.json()) as {
      x402Version: number;
      accepts: { scheme: string; network: string; maxAmountRequired: string; payTo: string; asset: string; resource: string }[];
    };
    expect(v1).toMatchObject({
      x402Version: 1,
      accepts: [{ scheme: "exact", network: "base-sepolia", maxAmountRequired: "10000", payTo: PAY_TO, resource: "http://router.test/api/v1/x402/completions" }],
    });

    // A version-1 payment, signed by the SDK's own v1 client scheme.
    const account = privateKeyToAccount(generatePrivateKey());
    const requirement = v1.accepts[0]!;
    const signed = await new ExactEvmSchemeV1(account).createPaymentPayload(1, requirement as never);
    const header = btoa(JSON.stringify({ x402Version: 1, scheme: requirement.scheme, network: requirement.network, payload: signed.payload }));
    const before = (await activity()).settlements.length;
    const paid = await base("http://router.test/api/v1/x402/completions", { ...post({ prompt: "legacy" }), headers: { "content-type": "application/json", "X-PAYMENT": header } });
    expect(paid.status).toBe(200);
    expect(paid.headers.get("X-PAYMENT-RESPONSE")).toBeTruthy();
    expect((await activity()).settlements).toHaveLength(before + 1);
    expect((await activity()).settlements.at(-1)).toMatchObject({ payer: account.address, amount: "10000" });
  });

  it("pays for the ping, and is off unless enabled", async () => {
    const { pay } = payingClient(router());
    const ping = await pay("http://router.test/api/v1/x402/ping");
    expect(ping.status).toBe(200);
    expect(await ping.json()).toMatchObject({ status: "ok", paid: true });
    const off = await router({ X402_ROUTES: "" })("http://router.test/api/v1/x402/ping");
    expect(off.status).toBe(404);
  });
});
