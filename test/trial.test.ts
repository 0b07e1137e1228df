import { describe, expect, it, vi } from "vitest";
import { call, createSession, fetchWorker, minerInbox, minerRequests, minersFor } from "./helpers";

type ErrorBody = { error: { code: string; message: string; details?: { retry_after?: number } } };

let ipCounter = 0;
const freshIp = () => `203.0.113.${++ipCounter}`;

/** A trial request as it reaches the Worker from the edge: no key, CF-Connecting-IP set by Cloudflare. */
function trial(vars: Record<string, string>) {
  return async (path: string, body: unknown, headers: Record<string, string>) =>
    (await fetchWorker(new Request(`http://router.test${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) }), vars))
      .response;
}

async function trialSetup(extra: Record<string, string> = {}) {
  const { model } = await minersFor(["fastC"]);
  const sessionId = await createSession({ model });
  return { sessionId, send: trial({ TRIAL_ROUTES: "all", TRIAL_SESSION_IDS: String(sessionId), TRIAL_MAX_TOKENS: "16", TRIAL_MAX_TIMEOUT_S: "30", ...extra }) };
}

describe("trial routes", () => {
  it("caps all trial traffic per day (global cap)", async () => {
    const { send } = await trialSetup({ TRIAL_DAILY_CAP: "2" });
    expect((await send("/api/v1/trial/completions", { prompt: "a" }, { "CF-Connecting-IP": freshIp() })).status).toBe(200);
    expect((await send("/api/v1/trial/completions", { prompt: "b" }, { "CF-Connecting-IP": freshIp() })).status).toBe(200);
    const capped = await send("/api/v1/trial/completions", { prompt: "c" }, { "CF-Connecting-IP": freshIp() });
    expect(capped.status).toBe(429);
    expect(((await capped.json()) as ErrorBody).error.message).toContain("daily cap");
  });

  it("answers once per client per window, then 429 with retry_after, and again after the window", async () => {
    const { send } = await trialSetup({ TRIAL_WINDOW_S: "60" });
    // The quota window runs on the test's clock: the Quota object shares the
    // test's isolate, and only Date is faked (timers, and so the task, run as ever).
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const start = Date.now();
      const ip = freshIp();
      expect((await send("/api/v1/trial/completions", { prompt: "one" }, { "CF-Connecting-IP": ip })).status).toBe(200);
      const again = await send("/api/v1/trial/completions", { prompt: "two" }, { "CF-Connecting-IP": ip });
      expect(again.status).toBe(429);
      const body = (await again.json()) as ErrorBody;
      expect(body.error.code).toBe("trial_quota_exceeded");
      expect(body.error.details!.retry_after).toBe(60);
      expect(again.headers.get("retry-after")).toBe("60");
      expect((await send("/api/v1/trial/completions", { prompt: "other client" }, { "CF-Connecting-IP": freshIp() })).status).toBe(200);
      // The last millisecond of the window: still refused, for one more second.
      vi.setSystemTime(start + 59_999);
      const last = await send("/api/v1/trial/completions", { prompt: "almost" }, { "CF-Connecting-IP": ip });
      expect(last.status).toBe(429);
      expect(((await last.json()) as ErrorBody).error.details!.retry_after).toBe(1);
      // The window has passed.
      vi.setSystemTime(start + 60_000);
      expect((await send("/api/v1/trial/completions", { prompt: "three" }, { "CF-Connecting-IP": ip })).status).toBe(200);
    } finally {
      vi.useRealTimers();
    }
  });

  it("counts the edge's client address, not headers a client can set", async () => {
    const { send } = await trialSetup();
    const ip = freshIp();
    expect((await send("/api/v1/trial/completions", { prompt: "x" }, { "CF-Connecting-IP": ip, "X-Forwarded-For": "198.51.100.1" })).status).toBe(200);
    const spoofed = await send(
      "/api/v1/trial/completions",
      { prompt: "y" },
      { "CF-Connecting-IP": ip, "X-Forwarded-For": "198.51.100.2", "X-Real-IP": "198.51.100.3", "True-Client-IP": "198.51.100.4" },
    );
    expect(spoofed.status).toBe(429);
  });

  it("bounds max_tokens and timeouts whatever the client asks", async () => {
    const { sessionId, send } = await trialSetup();
    const res = await send(
      "/api/v1/trial/completions",
      { prompt: "as long as you like", max_tokens: 5000, timeout: 600, precommit_timeout: 500 },
      { "CF-Connecting-IP": freshIp() },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { task_id: number; usage: { completion_tokens: number } };
    expect(body.usage.completion_tokens).toBe(16);
    expect((await minerInbox("fastC")).at(-1)!.body["max_tokens"]).toBe(16);
    const task = (await (await call(`/api/v1/tasks/${sessionId}/${body.task_id}`)).json()) as { created_at: string; deadline_at: string; precommit_deadline_at: string };
    expect(Date.parse(task.deadline_at) - Date.parse(task.created_at)).toBeLessThanOrEqual(30_000);
    expect(Date.parse(task.precommit_deadline_at)).toBeLessThan(Date.parse(task.deadline_at));
  });

  it("replays a retried request_id without counting it or dispatching again", async () => {
    const { send } = await trialSetup();
    const ip = freshIp();
    const first = await send("/api/v1/trial/completions", { prompt: "same", request_id: "trial-1" }, { "CF-Connecting-IP": ip });
    const served = await minerRequests("fastC");
    const retry = await send("/api/v1/trial/completions", { prompt: "same", request_id: "trial-1" }, { "CF-Connecting-IP": ip });
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual(await first.json());
    expect(await minerRequests("fastC")).toBe(served);
    // Another client's identical request_id is its own request (and its own quota).
    const other = await send("/api/v1/trial/completions", { prompt: "same", request_id: "trial-1" }, { "CF-Connecting-IP": freshIp() });
    expect(other.status).toBe(200);
    expect(await minerRequests("fastC")).toBe(served + 1);
  });

  it("runs delegate, validate and factcheck trials", async () => {
    const { send } = await trialSetup();
    const delegate = await send(
      "/api/v2/trial/delegate",
      { objective: "Summarize.", input: { kind: "text", payload: "Routers route." }, policy: { tier: "safe" } },
      { "CF-Connecting-IP": freshIp() },
    );
    expect(delegate.status).toBe(200);
    expect(await delegate.json()).toMatchObject({ trial: true, consensus: { redundancy: 1 } });
    const validate = await send("/api/v1/trial/validate", { claim: { type: "t", output: "Fine output." } }, { "CF-Connecting-IP": freshIp() });
    expect(await validate.json()).toMatchObject({ verdict: "VALID", trial: true });
    const factcheck = await send(
      "/api/v1/trial/factcheck",
      { claim: { type: "t", statement: "Routers exist." }, policy: { task_redundancy: 3 } },
      { "CF-Connecting-IP": freshIp() },
    );
    expect(await factcheck.json()).toMatchObject({ verdict: "VALID", task_ids: [expect.any(Number)] });
  });

  it("is off unless enabled, and only on trial sessions", async () => {
    const { sessionId, send } = await trialSetup();
    const off = await trial({ TRIAL_SESSION_IDS: String(sessionId) })("/api/v1/trial/completions", { prompt: "x" }, { "CF-Connecting-IP": freshIp() });
    expect(off.status).toBe(404);
    const only = await trial({ TRIAL_ROUTES: "delegate", TRIAL_SESSION_IDS: String(sessionId) })("/api/v1/trial/completions", { prompt: "x" }, { "CF-Connecting-IP": freshIp() });
    expect(only.status).toBe(404);
    const elsewhere = await send(`/api/v1/trial/completions/${sessionId + 1}`, { prompt: "x" }, { "CF-Connecting-IP": freshIp() });
    expect(elsewhere.status).toBe(403);
    expect(((await elsewhere.json()) as ErrorBody).error.code).toBe("trial_session_not_allowed");
  });
});
