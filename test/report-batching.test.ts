import { env } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { PendingReports } from "../durable-objects/session/pending-reports";
import { sqlOf } from "../durable-objects/sqlite-object";
import { MinerPublicSchema } from "../domain/schemas/miner";
import { call, createSession, minersFor } from "./helpers";
import { flushReports, freezeSessionAlarms } from "./report-flush";

/**
 * Issue 12: no global object on a task's path. A Session object picks miners
 * from its own snapshot and queues outcome reports in its SQLite; they reach
 * the registry in batches, by count or by its alarm, once per batch id.
 */

const sessionStub = (sessionId: number) => env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}`));
const registry = () => env.MINERS.get(env.MINERS.idFromName("registry"));
const registryCalls = () => runInDurableObject(registry(), (instance) => ({ ...instance.calls }));
/** The reports waiting in the session: its assignments carry them (pending-reports.ts). */
const pendingRows = (sessionId: number) =>
  runInDurableObject(
    sessionStub(sessionId),
    (_instance, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM assignments WHERE report_seq IS NOT NULL").one().n,
  );

const MinerList = z.object({ miners: z.array(MinerPublicSchema) });

/** A miner's counts as the registry holds them. */
async function stats(minerId: string) {
  const res = await call("/api/v1/miners");
  expect(res.status).toBe(200);
  const miner = MinerList.parse(await res.json()).miners.find((m) => m.id === minerId);
  if (!miner) throw new Error(`miner ${minerId} not listed`);
  return miner.stats;
}

async function completeOk(sessionId: number, prompt: string) {
  const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt } });
  expect(res.status).toBe(200);
}

/** A session of one agreeing miner that has run its first (cold) task: its snapshot is warm. */
async function warmSession() {
  const { model, ids } = await minersFor(["fastA"]);
  const minerId = ids.fastA;
  if (!minerId) throw new Error("no miner");
  const sessionId = await createSession({ model, redundancy: 1 });
  await completeOk(sessionId, "cold");
  return { sessionId, minerId };
}

describe("outcome reports reach the registry in batches", () => {
  freezeSessionAlarms();

  it("makes no call to the registry on a task's path once the session is warm", async () => {
    const { sessionId, minerId } = await warmSession();
    const before = await registryCalls();
    for (let i = 0; i < 5; i++) await completeOk(sessionId, `warm ${i}`);
    expect(await registryCalls()).toEqual(before);
    // Nothing reached the registry: the six agreed answers wait in the session.
    expect(await stats(minerId)).toMatchObject({ agreed: 0 });
    expect(await pendingRows(sessionId)).toBe(6);
  });

  it("delivers the queued reports in one batch when the session's alarm runs", async () => {
    const { sessionId, minerId } = await warmSession();
    for (let i = 0; i < 3; i++) await completeOk(sessionId, `batched ${i}`);
    const before = await registryCalls();
    expect(await flushReports(sessionId)).toBe(true);
    expect(await registryCalls()).toEqual({ ...before, reportBatch: before.reportBatch + 1 });
    expect(await stats(minerId)).toMatchObject({ agreed: 4, failed: 0, timed_out: 0 });
    expect(await pendingRows(sessionId)).toBe(0);
    // A second run of the alarm has nothing to send and counts nothing again.
    await flushReports(sessionId);
    expect(await stats(minerId)).toMatchObject({ agreed: 4 });
  });

  it("keeps queued reports across an eviction of the session object", async () => {
    const { sessionId, minerId } = await warmSession();
    for (let i = 0; i < 2; i++) await completeOk(sessionId, `before crash ${i}`);
    await evictDurableObject(sessionStub(sessionId));
    expect(await pendingRows(sessionId)).toBe(3);
    expect(await flushReports(sessionId)).toBe(true);
    expect(await stats(minerId)).toMatchObject({ agreed: 3 });
    expect(await pendingRows(sessionId)).toBe(0);
  });

  it("counts a batch once when its flush is retried after the answer was lost", async () => {
    const { sessionId, minerId } = await warmSession();
    for (let i = 0; i < 2; i++) await completeOk(sessionId, `retried ${i}`);
    // The session sent its batch and the registry applied it, but the answer never came back.
    const batch = await runInDurableObject(sessionStub(sessionId), (_instance, state) => new PendingReports(sqlOf(state.storage.sql), Date.now).next());
    if (!batch) throw new Error("no batch queued");
    expect(batch.reports).toHaveLength(3);
    const first = await registry().reportBatch({ ...batch, session: "lost-answer", model: "unused", load: {} });
    expect(first.duplicate).toBe(false);
    expect(await stats(minerId)).toMatchObject({ agreed: 3 });
    // The alarm sends the same batch again, under its id: acknowledged, not counted twice.
    expect(await flushReports(sessionId)).toBe(true);
    expect(await stats(minerId)).toMatchObject({ agreed: 3 });
    expect(await pendingRows(sessionId)).toBe(0);
  });

  it("sends reports queued before the assignments carried them first, then the assignments', in order, each batch once", async () => {
    const { sessionId, minerId } = await warmSession();
    // Two reports as an object from before the outbox moved into the assignments holds them: rows of pending_reports,
    // one of them already sent once under a batch id whose answer was lost.
    await runInDurableObject(sessionStub(sessionId), (_instance, state) => {
      const lost = `legacy-${crypto.randomUUID()}`;
      state.storage.sql.exec("INSERT INTO pending_reports (batch_id, miner_id, outcome, latency_ms, created_at) VALUES (?, ?, 'agreed', 500, ?)", lost, minerId, Date.now());
      state.storage.sql.exec("INSERT INTO pending_reports (miner_id, outcome, latency_ms, created_at) VALUES (?, 'failed', NULL, ?)", minerId, Date.now());
    });
    await evictDurableObject(sessionStub(sessionId));
    await completeOk(sessionId, "after the migration");
    const before = await registryCalls();
    expect(await flushReports(sessionId)).toBe(true);
    // The lost batch again (its id), the other old row, then the two tasks' reports from their assignments.
    expect(await registryCalls()).toEqual({ ...before, reportBatch: before.reportBatch + 3 });
    expect(await stats(minerId)).toMatchObject({ agreed: 3, failed: 1 });
    expect(await pendingRows(sessionId)).toBe(0);
    const legacy = await runInDurableObject(
      sessionStub(sessionId),
      (_instance, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending_reports").one().n,
    );
    expect(legacy).toBe(0);
    // Each assignment keeps what it reported.
    const reported = await runInDurableObject(sessionStub(sessionId), (_instance, state) =>
      state.storage.sql.exec<{ report: string; report_seq: number | null }>("SELECT report, report_seq FROM assignments ORDER BY task_id").toArray(),
    );
    expect(reported).toEqual([
      { report: "agreed", report_seq: null },
      { report: "agreed", report_seq: null },
    ]);
  });
});

describe("a session's snapshot of the miners", () => {
  freezeSessionAlarms();

  it("avoids a miner that failed here without asking the registry again", async () => {
    const { model, ids } = await minersFor(["failing", "fastA"]);
    const sessionId = await createSession({ model, redundancy: 1 });
    const before = await registryCalls();
    // Until the failing miner is picked first (a random pick), fails, and is replaced.
    let failedOnce = false;
    for (let i = 0; i < 40 && !failedOnce; i++) {
      const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: `pick ${i}` } });
      expect(res.status).toBe(200);
      const { miners } = z.object({ miners: z.array(z.object({ miner: z.string() })) }).parse(await res.json());
      failedOnce = miners.some((m) => m.miner === ids.failing);
    }
    expect(failedOnce).toBe(true);
    // From then on the session picks the other miner first, from the same snapshot.
    for (let i = 0; i < 5; i++) {
      const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: `after ${i}` } });
      const { miners } = z.object({ miners: z.array(z.object({ miner: z.string() })) }).parse(await res.json());
      expect(miners.map((m) => m.miner)).toEqual([ids.fastA]);
    }
    // The cold object's one read, and nothing since.
    expect(await registryCalls()).toEqual({ ...before, candidates: before.candidates + 1 });
  });
});
