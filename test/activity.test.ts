import { ExactEvmScheme } from "@x402/evm";
import { wrapFetchWithPaymentFromConfig } from "@x402/fetch";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, inject, it, vi } from "vitest";
import type { ActivityDay, ActivityResponse } from "../domain/schemas/activity";
import { env } from "cloudflare:workers";
import { sendActivity } from "../workers/activity/record-activity";
import type { ActivityBatch } from "../domain/schemas/activity";
import { registryStub } from "../domain/objects/stubs";
import { admin, createSession, fetchWorker, minersFor } from "./helpers";

const PAY_TO = "0x9999999999999999999999999999999999999999";
const today = () => new Date().toISOString().slice(0, 10);

/** The Worker under `vars`, as a client's fetch; `settled()` waits for every request's after-answer work (the activity batches). */
function worker(vars: Record<string, string>) {
  const pending: Promise<void>[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const { response, settled } = await fetchWorker(new Request(input as RequestInfo, init), vars);
    pending.push(settled());
    return response;
  };
  return { fetch, settled: () => Promise.all(pending.splice(0)) };
}

async function activity(query = "days=2"): Promise<ActivityResponse> {
  const res = await admin(`/api/v1/admin/activity?${query}`, "GET");
  expect(res.status).toBe(200);
  return (await res.json()) as ActivityResponse;
}

const zero: ActivityDay = {
  day: "",
  trial: { admitted: 0, refused: 0, tokens: 0 },
  x402: { admitted: 0, refused: 0, settled: 0, settled_usd: "0.000000", tokens: 0 },
};
const todays = async () => (await activity()).days.find((d) => d.day === today()) ?? { ...zero, day: today() };
const micros = (usd: string) => Math.round(Number(usd) * 1_000_000);

const post = (body: unknown, headers: Record<string, string> = {}) => ({ method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
const tokensOf = async (res: Response) => ((await res.json()) as { usage: { total_tokens: number } }).usage.total_tokens;

describe("trial and x402 activity", () => {
  it("counts trial requests admitted and refused by the quota, and their completions' tokens", async () => {
    const { model } = await minersFor(["fastC"]);
    const sessionId = await createSession({ model });
    const router = worker({ TRIAL_ROUTES: "all", TRIAL_SESSION_IDS: String(sessionId), TRIAL_REQUESTS_PER_WINDOW: "1", TRIAL_WINDOW_S: "900" });
    const before = await todays();

    const first = await router.fetch("http://router.test/api/v1/trial/completions", post({ prompt: "one" }, { "CF-Connecting-IP": "198.51.100.71" }));
    expect(first.status).toBe(200);
    const refused = await router.fetch("http://router.test/api/v1/trial/completions", post({ prompt: "two" }, { "CF-Connecting-IP": "198.51.100.71" }));
    expect(refused.status).toBe(429);
    const other = await router.fetch("http://router.test/api/v1/trial/completions", post({ prompt: "three" }, { "CF-Connecting-IP": "198.51.100.72" }));
    expect(other.status).toBe(200);
    const tokens = (await tokensOf(first)) + (await tokensOf(other));
    expect(tokens).toBeGreaterThan(0);
    await router.settled();

    const after = await todays();
    expect(after.trial).toEqual({ admitted: before.trial.admitted + 2, refused: before.trial.refused + 1, tokens: before.trial.tokens + tokens });
    expect(after.x402).toEqual(before.x402);
  });

  it("counts x402 payments admitted, refused and settled with their amounts, and the paid completions' tokens", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const router = worker({ X402_ROUTES: "all", X402_FACILITATOR_URL: inject("facilitator").url, X402_PAY_TO: PAY_TO, DEFAULT_SESSION_ID: String(sessionId) });
    const sent: Headers[] = [];
    const recording: typeof fetch = async (input, init) => {
      const request = new Request(input as RequestInfo, init);
      sent.push(new Headers(request.headers));
      return router.fetch(request);
    };
    const pay = wrapFetchWithPaymentFromConfig(recording, { schemes: [{ network: "eip155:84532", client: new ExactEvmScheme(privateKeyToAccount(generatePrivateKey())) }] });
    const before = await todays();

    // Asking the price (no payment) counts nothing.
    expect((await router.fetch("http://router.test/api/v1/x402/ping")).status).toBe(402);
    const paid = await pay("http://router.test/api/v1/x402/completions", post({ prompt: "paid prompt", request_id: "activity-paid" }));
    expect(paid.status).toBe(200);
    const tokens = await tokensOf(paid);
    // A retry of the paid request: admitted on a new payment, answered from the first task, nothing settled, no tokens again.
    const retry = await pay("http://router.test/api/v1/x402/completions", post({ prompt: "paid prompt", request_id: "activity-paid" }));
    expect(retry.status).toBe(200);
    expect(retry.headers.get("x-idempotent-replay")).toBe("true");
    // The same authorization again: refused.
    const signature = sent.find((h) => h.has("PAYMENT-SIGNATURE"))!.get("PAYMENT-SIGNATURE")!;
    const replayed = await router.fetch("http://router.test/api/v1/x402/completions", post({ prompt: "paid prompt" }, { "PAYMENT-SIGNATURE": signature }));
    expect(replayed.status).toBe(402);
    // Not a payment at all: refused.
    const garbage = await router.fetch("http://router.test/api/v1/x402/ping", { headers: { "PAYMENT-SIGNATURE": btoa("not a payment") } });
    expect(garbage.status).toBe(402);
    expect((await pay("http://router.test/api/v1/x402/ping")).status).toBe(200);
    await router.settled();

    const after = await todays();
    expect(after.x402).toEqual({
      admitted: before.x402.admitted + 3,
      refused: before.x402.refused + 2,
      settled: before.x402.settled + 2,
      // $0.01 for the completion and $0.001 for the ping, the test prices.
      settled_usd: expect.any(String),
      tokens: before.x402.tokens + tokens,
    });
    expect(micros(after.x402.settled_usd) - micros(before.x402.settled_usd)).toBe(11_000);
    expect(after.trial).toEqual(before.trial);
  });

  it("says so when nothing was recorded: no days", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.UTC(2100, 0, 10, 12));
      expect(await activity("days=3")).toEqual({ from: "2100-01-08", to: "2100-01-10", days: [] });
    } finally {
      vi.useRealTimers();
    }
  });

  it("is in the OpenAPI document", async () => {
    const doc = (await (await fetchWorker(new Request("http://router.test/openapi.json"))).response.json()) as {
      paths: Record<string, { get?: { parameters?: { name: string }[] } }>;
    };
    expect(doc.paths["/api/v1/admin/activity"]?.get?.parameters?.map((p) => p.name)).toEqual(["days"]);
  });

  it("refuses a days it cannot show, naming the field; and anyone but the admin", async () => {
    for (const days of ["0", "91", "two"]) {
      const res = await admin(`/api/v1/admin/activity?days=${days}`, "GET");
      expect(res.status, days).toBe(400);
      expect(JSON.stringify(await res.json()), days).toContain("days");
    }
    const { response } = await fetchWorker(new Request("http://router.test/api/v1/admin/activity"));
    expect(response.status).toBe(401);
  });
});

describe("activity batches whose write fails", () => {
  const batch = () => [{ day: today(), channel: "trial" as const, admitted: 3, refused: 1, settled: 0, settled_micros: 0, tokens: 40 }];
  const registry = (b: ActivityBatch) => registryStub(env).addActivity(b);

  it("retries a batch whose answer was lost after the registry applied it, and counts it exactly once", async () => {
    const before = await todays();
    let calls = 0;
    // The first write reaches the registry, then its answer is lost: the case a blind retry would count twice.
    const lostAnswer = async (b: ActivityBatch) => {
      calls++;
      await registry(b);
      if (calls === 1) throw new Error("connection reset");
    };
    expect(await sendActivity(lostAnswer, batch(), [0])).toBe(true);
    expect(calls).toBe(2);
    const after = await todays();
    expect(after.trial).toEqual({ admitted: before.trial.admitted + 3, refused: before.trial.refused + 1, tokens: before.trial.tokens + 40 });
  });

  it("retries a batch whose first write failed before it was applied, and counts it once", async () => {
    const before = await todays();
    let calls = 0;
    const failsOnce = async (b: ActivityBatch) => {
      if (++calls === 1) throw new Error("registry overloaded");
      await registry(b);
    };
    expect(await sendActivity(failsOnce, batch(), [0])).toBe(true);
    const after = await todays();
    expect(after.trial).toEqual({ admitted: before.trial.admitted + 3, refused: before.trial.refused + 1, tokens: before.trial.tokens + 40 });
  });

  it("gives up after its bounded retries, and counts nothing", async () => {
    const before = await todays();
    let calls = 0;
    const alwaysFails = async () => {
      calls++;
      throw new Error("registry down");
    };
    expect(await sendActivity(alwaysFails, batch(), [0, 0])).toBe(false);
    expect(calls).toBe(3);
    expect((await todays()).trial).toEqual(before.trial);
  });
});
