import { describe, expect, it } from "vitest";
import { ErrorBodySchema } from "../../domain/errors";
import { CompletionResponseSchema } from "../../domain/schemas/completion";
import { admin, call, createSession, minersFor, until } from "../helpers";
import { flushReports } from "../report-flush";
import { minersById, payingClient, postJson, routerWith } from "./edge";

/**
 * Issue 11, item 1: a client must not be able to bench miners. Deadlines it
 * made impossible are refused; failures its request caused (a prompt past
 * the model's context, a prompt that crashes every miner, deadlines missed,
 * a stream it walked away from) never take a healthy miner out of service:
 * only a failed health probe does.
 */

const IMPOSSIBLE = { timeout: 0.01, precommit_timeout: 0.005 };
const TOO_LONG = Array.from({ length: 80 }, (_, i) => `word${i}`).join(" ");
const POISON = "please summarise POISON-PILL for me";

async function benchFleet() {
  const { model, ids } = await minersFor(["benchA", "benchB", "benchC"], { maxConcurrency: 16 });
  const sessionId = await createSession({ model, redundancy: 3 });
  return { sessionId, minerIds: Object.values(ids) };
}

/** Sends the session's queued reports until the registry has every report of the attack (late calls report after the answers). */
async function reportsIn(sessionId: number, minerIds: string[], done: (s: { failed: number; timed_out: number; request_failed: number }) => boolean) {
  return until(async () => {
    await flushReports(sessionId);
    const miners = await minersById(minerIds);
    return miners.length === minerIds.length && miners.every((m) => done(m.stats)) && miners;
  });
}

async function expectAllHealthyAndServing(minerIds: string[], answer: () => Promise<Response>) {
  for (const m of await minersById(minerIds)) expect(m, m.id).toMatchObject({ healthy: true });
  const res = await answer();
  expect(res.status).toBe(200);
  expect(CompletionResponseSchema.parse(await res.json()).consensus).toMatchObject({ reached: true, dissent: [] });
}

describe("benching attack: keyed routes", () => {
  it("refuses impossible deadlines with a 400 naming the field", async () => {
    const { sessionId, minerIds } = await benchFleet();
    for (let i = 0; i < 12; i++) {
      const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: `tight ${i}`, ...IMPOSSIBLE } });
      expect(res.status).toBe(400);
      const body = ErrorBodySchema.parse(await res.json());
      expect(JSON.stringify(body.error.details)).toMatch(/"field":"(timeout|precommit_timeout)"/);
    }
    for (const [json, field] of [
      [{ prompt: "x", timeout: 4 }, "timeout"],
      [{ prompt: "x", precommit_timeout: 1 }, "precommit_timeout"],
      [{ prompt: "x", timeout: 30, precommit_timeout: 1.5 }, "precommit_timeout"],
    ] as const) {
      const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json });
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(JSON.stringify(ErrorBodySchema.parse(await res.json()).error.details)).toContain(`"field":"${field}"`);
    }
    for (const [path, json, field] of [
      ["/api/v1/delegate", { session_id: sessionId, objective: "x", policy: { timeout: 1 } }, "policy.timeout"],
      ["/api/v1/validate", { session_id: sessionId, claim: { type: "t", output: "o" }, policy: { timeout_ms: 100 } }, "policy.timeout_ms"],
      ["/api/v1/factcheck", { session_id: sessionId, claim: { type: "t", statement: "s" }, policy: { precommit_timeout_ms: 10 } }, "policy.precommit_timeout_ms"],
    ] as const) {
      const res = await call(path, { method: "POST", json });
      expect(res.status, path).toBe(400);
      expect(JSON.stringify(ErrorBodySchema.parse(await res.json()).error.details), path).toContain(`"field":"${field}"`);
    }
    await expectAllHealthyAndServing(minerIds, () => call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "still there?" } }));
  });

  it("does not hold a prompt past the model's context against the miners", async () => {
    const { sessionId, minerIds } = await benchFleet();
    for (let i = 0; i < 12; i++) {
      const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: `${TOO_LONG} ${i}` } });
      expect(res.status).toBe(502);
      const body = ErrorBodySchema.parse(await res.json());
      expect(body.error.code).toBe("miners_failed");
      expect(JSON.stringify(body.error.details)).toContain('"fault":"request"');
    }
    await reportsIn(sessionId, minerIds, (s) => s.request_failed >= 12);
    for (const m of await minersById(minerIds)) expect(m.stats).toMatchObject({ failed: 0, timed_out: 0 });
    await expectAllHealthyAndServing(minerIds, () => call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "a short one" } }));
  });

  it("lets a health probe, not a prompt that crashes every miner, decide who is benched", async () => {
    const { sessionId, minerIds } = await benchFleet();
    for (let i = 0; i < 12; i++) {
      const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: `${POISON} ${i}` } });
      expect(res.status).toBe(502);
    }
    const miners = await reportsIn(sessionId, minerIds, (s) => s.failed >= 12);
    // Three faults in a row asked for a probe; the probe passed.
    for (const m of miners) expect(m.last_health_check_at, m.id).not.toBeNull();
    await expectAllHealthyAndServing(minerIds, () => call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "an innocent prompt" } }));
  });

  it("does not bench miners for deadlines that a request's size made them miss", async () => {
    const { model, ids } = await minersFor(["slow"], { maxConcurrency: 16 });
    const sessionId = await createSession({ model });
    // The slow miner needs 2.5 s; these give it the minimum 2 s: every one times out.
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: `long job ${i}`, timeout: 5, precommit_timeout: 2 } })),
    );
    for (const res of results) expect(res.status).toBe(504);
    const [slow] = await reportsIn(sessionId, Object.values(ids), (s) => s.timed_out + s.request_failed >= 8);
    expect(slow).toMatchObject({ healthy: true });
    const ok = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "take your time", timeout: 20, precommit_timeout: 10 } });
    expect(ok.status).toBe(200);
  });

  it("still benches a miner that is really down, once its probe fails", async () => {
    const { model, ids } = await minersFor(["benchA", "benchB", "benchC"]);
    const dead = `dead-${ids.benchA}`;
    const reg = await admin("/api/v1/admin/miners", "POST", { id: dead, url: "http://127.0.0.1:1", credential: "x", models: [model], max_concurrency: 8 });
    expect(reg.status).toBe(201);
    const sessionId = await createSession({ model, redundancy: 3 });
    let attempt = 0;
    await until(async () => {
      const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: `attempt ${attempt++}` } });
      expect(res.status).toBe(200);
      await flushReports(sessionId);
      const [m] = await minersById([dead]);
      return m && !m.healthy && m;
    }, 20_000);
    const [m] = await minersById([dead]);
    // Benched by its failed probe (the registry probed it on its run of faults).
    expect(m).toMatchObject({ healthy: false, last_health_check_at: expect.any(String) });
  });
});

describe("benching attack: a client that walks away", () => {
  it("never counts an aborted stream against the miner", async () => {
    const { model, ids } = await minersFor(["streamer"]);
    const sessionId = await createSession({ model, redundancy: 1 });
    for (let i = 0; i < 4; i++) {
      const controller = new AbortController();
      const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: `walk away ${i}`, stream: true, max_tokens: 20 }, signal: controller.signal });
      expect(res.status).toBe(200);
      const reader = res.body?.getReader();
      if (!reader) throw new Error("no stream");
      await reader.read();
      controller.abort();
      await reader.cancel().catch(() => {});
    }
    // Each task ran to its end without the client; the miner's four answers count as agreed.
    const after = await until(async () => {
      await flushReports(sessionId);
      const [m] = await minersById(Object.values(ids));
      return m && m.stats.agreed >= 4 && m;
    });
    expect(after).toMatchObject({ healthy: true, stats: { agreed: 4, failed: 0, timed_out: 0, request_failed: 0 } });
  });
});

describe("benching attack: trial routes", () => {
  it("answers every trial session after a dozen keyless attacks", async () => {
    const { sessionId, minerIds } = await benchFleet();
    const trial = routerWith({ TRIAL_ROUTES: "all", TRIAL_SESSION_IDS: String(sessionId), TRIAL_DAILY_CAP: "1000", TRIAL_MAX_TIMEOUT_S: "30" });
    let ip = 0;
    const send = (body: unknown) => trial("http://router.test/api/v1/trial/completions", postJson(body, { "CF-Connecting-IP": `198.51.100.${++ip}` }));
    for (let i = 0; i < 4; i++) expect((await send({ session_id: sessionId, prompt: `t${i}`, ...IMPOSSIBLE })).status).toBe(400);
    for (let i = 0; i < 4; i++) expect((await send({ session_id: sessionId, prompt: `${TOO_LONG} ${i}` })).status).toBe(502);
    for (let i = 0; i < 4; i++) expect((await send({ session_id: sessionId, prompt: `${POISON} ${i}` })).status).toBe(502);
    await reportsIn(sessionId, minerIds, (s) => s.request_failed >= 4 && s.failed >= 4);
    await expectAllHealthyAndServing(minerIds, () => send({ session_id: sessionId, prompt: "hello trial" }));
  });
});

describe("benching attack: x402 routes", () => {
  it("answers after a dozen paid-but-failing requests, none of them settled into a bench", async () => {
    const { sessionId, minerIds } = await benchFleet();
    const pay = payingClient({ DEFAULT_SESSION_ID: String(sessionId) });
    const send = (body: unknown) => pay(`http://router.test/api/v1/x402/completions/${sessionId}`, postJson(body));
    for (let i = 0; i < 4; i++) expect((await send({ prompt: `x${i}`, ...IMPOSSIBLE })).status).toBe(400);
    for (let i = 0; i < 4; i++) expect((await send({ prompt: `${TOO_LONG} ${i}` })).status).toBe(502);
    for (let i = 0; i < 4; i++) expect((await send({ prompt: `${POISON} ${i}` })).status).toBe(502);
    await reportsIn(sessionId, minerIds, (s) => s.request_failed >= 4 && s.failed >= 4);
    await expectAllHealthyAndServing(minerIds, () => send({ prompt: "hello paid" }));
  });
});
