import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { freezeSessionAlarms } from "./report-flush";
import { z } from "zod";
import { MAX_SHARDS } from "../domain/schemas/session";
import { MinerPublicSchema } from "../domain/schemas/miner";
import { admin, call, createSession, minersFor } from "./helpers";

/**
 * Issue 12, hot sessions: a session with `shards: n` spreads its tasks over
 * n Session objects; a task's id names its shard, a request id always finds
 * its first task, and every shard runs on the session's current settings.
 */

const shardStub = (sessionId: number, shard: number) => env.SESSIONS.get(env.SESSIONS.idFromName(shard === 0 ? `session:${sessionId}` : `session:${sessionId}:shard:${shard}`));

/** The task ids a shard object holds, read from its own storage. */
const idsOn = (sessionId: number, shard: number) =>
  runInDurableObject(shardStub(sessionId, shard), (_instance, state) => {
    const tables = state.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'tasks'").toArray();
    return tables.length === 0
      ? []
      : state.storage.sql
          .exec<{ task_id: number }>("SELECT task_id FROM tasks ORDER BY task_id")
          .toArray()
          .map((r) => r.task_id);
  });

/** A shard's copy of the settings: its name and version. */
const settingsOn = (sessionId: number, shard: number) =>
  runInDurableObject(shardStub(sessionId, shard), (_instance, state) =>
    state.storage.sql.exec<{ config: string; version: string; shard: number }>("SELECT config, version, shard FROM session").one(),
  );

const Completion = z.object({ task_id: z.number().int(), choices: z.array(z.object({ text: z.string().optional() }).passthrough()) }).passthrough();
const TaskList = z.object({ tasks: z.array(z.object({ task_id: z.number().int(), request_id: z.string().nullable() }).passthrough()), next_before: z.number().nullable() });
const SessionBody = z.object({ shards: z.number(), task_count: z.number(), name: z.string() }).passthrough();

async function complete(sessionId: number, body: Record<string, unknown>) {
  const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: body });
  return { res, body: res.status === 200 ? Completion.parse(await res.json()) : await res.json() };
}

async function completeOk(sessionId: number, body: Record<string, unknown>) {
  const { res, body: answer } = await complete(sessionId, body);
  expect(res.status, JSON.stringify(answer)).toBe(200);
  return { res, completion: Completion.parse(answer) };
}

async function session(sessionId: number) {
  const res = await call(`/api/v1/sessions/${sessionId}`);
  expect(res.status).toBe(200);
  return SessionBody.parse(await res.json());
}

async function shardedSession(shards: number) {
  const { model } = await minersFor(["fastA"]);
  return createSession({ model, redundancy: 1, shards });
}

describe("the shards setting", () => {
  it("defaults to 1 and is shown with the session", async () => {
    const { model } = await minersFor(["fastA"]);
    const id = await createSession({ model });
    expect(await session(id)).toMatchObject({ shards: 1, task_count: 0 });
  });

  it.each([0, MAX_SHARDS + 1, 1.5, "2", null])("refuses shards: %j with a 400 naming the field", async (shards) => {
    const res = await admin("/api/v1/admin/sessions", "POST", { name: "bad shards", shards });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('"field":"shards"');
  });

  it("refuses lowering a session's shards, naming the field, and keeps them", async () => {
    const id = await shardedSession(4);
    const res = await admin(`/api/v1/admin/sessions/${id}`, "PATCH", { shards: 2 });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_request", details: { issues: [{ field: "shards" }] } } });
    expect(await session(id)).toMatchObject({ shards: 4 });
  });
});

describe("a sharded session", () => {
  it("spreads tasks over its shards, each id naming the shard that holds it", async () => {
    const id = await shardedSession(4);
    const taskIds: number[] = [];
    for (let i = 0; i < 8; i++) taskIds.push((await completeOk(id, { prompt: `spread ${i}` })).completion.task_id);
    // Without request ids the shards take tasks in turn: two each.
    for (let k = 0; k < 4; k++) {
      const held = await idsOn(id, k);
      expect(held).toHaveLength(2);
      for (const taskId of held) expect(taskId % MAX_SHARDS).toBe(k);
    }
    expect(new Set(taskIds).size).toBe(8);
    expect((await session(id)).task_count).toBe(8);
  });

  it("stores v3 payloads under keys each shard reserved for its own next ids", async () => {
    const id = await shardedSession(2);
    const tasks: { task_id: number; prompt_urn: string; result_urn: string | null }[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await call(`/api/v3/completions/${id}`, { method: "POST", json: { prompt: `sharded v3 ${i}` } });
      expect(res.status).toBe(200);
      tasks.push((await res.json()) as (typeof tasks)[number]);
    }
    for (const t of tasks) {
      expect(t.prompt_urn).toContain(`:s${id}/t${t.task_id}/prompt-`);
      expect(t.result_urn).toContain(`:s${id}/t${t.task_id}/result-`);
    }
    for (let k = 0; k < 2; k++) {
      const rows = await runInDurableObject(shardStub(id, k), (_instance, state) =>
        state.storage.sql.exec<{ task_id: number }>("SELECT DISTINCT task_id FROM payloads ORDER BY task_id").toArray(),
      );
      // Its own ids only (task-payloads.ts `reserveKeys` follows the shard's numbering), its tasks' among them.
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) expect(r.task_id % MAX_SHARDS).toBe(k);
      for (const taskId of await idsOn(id, k)) expect(rows.map((r) => r.task_id)).toContain(taskId);
    }
  });

  it("reads any task by id and lists them all, newest first, paging across shards", async () => {
    const id = await shardedSession(3);
    const taskIds: number[] = [];
    for (let i = 0; i < 6; i++) taskIds.push((await completeOk(id, { prompt: `read ${i}` })).completion.task_id);
    for (const taskId of taskIds) {
      const res = await call(`/api/v1/tasks/${id}/${taskId}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ task_id: taskId, status: "ended" });
    }
    const sorted = [...taskIds].sort((a, b) => b - a);
    const all = TaskList.parse(await (await call(`/api/v1/tasks/${id}`)).json());
    expect(all.tasks.map((t) => t.task_id)).toEqual(sorted);
    const first = TaskList.parse(await (await call(`/api/v1/tasks/${id}?limit=4`)).json());
    expect(first.tasks.map((t) => t.task_id)).toEqual(sorted.slice(0, 4));
    const second = TaskList.parse(await (await call(`/api/v1/tasks/${id}?limit=4&before=${first.next_before}`)).json());
    expect(second.tasks.map((t) => t.task_id)).toEqual(sorted.slice(4));
    // An id no shard gave: 404 task_not_found, not a 500 nor another shard's task.
    const missing = await call(`/api/v1/tasks/${id}/${Math.max(...taskIds) + MAX_SHARDS}`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "task_not_found" } });
  });

  it("answers a repeated request_id from the shard that ran it, and dispatches nothing again", async () => {
    const id = await shardedSession(8);
    const first = await completeOk(id, { prompt: "once across shards", request_id: "shard-once" });
    for (let i = 0; i < 3; i++) {
      const again = await completeOk(id, { prompt: "once across shards", request_id: "shard-once" });
      expect(again.res.headers.get("x-idempotent-replay")).toBe("true");
      expect(again.completion.task_id).toBe(first.completion.task_id);
    }
    const conflict = await complete(id, { prompt: "other work", request_id: "shard-once" });
    expect(conflict.res.status).toBe(409);
    expect((await session(id)).task_count).toBe(1);
    const holders = [];
    for (let k = 0; k < 8; k++) if ((await idsOn(id, k)).length > 0) holders.push(k);
    expect(holders).toEqual([first.completion.task_id % MAX_SHARDS]);
  });

  it("carries settings changes to every shard", async () => {
    const id = await shardedSession(4);
    for (let i = 0; i < 4; i++) await completeOk(id, { prompt: `before ${i}` });
    const renamed = await admin(`/api/v1/admin/sessions/${id}`, "PATCH", { name: "renamed", active: false });
    expect(renamed.status).toBe(200);
    expect(await renamed.json()).toMatchObject({ name: "renamed", active: false, shards: 4, task_count: 4 });
    const primary = await settingsOn(id, 0);
    for (let k = 1; k < 4; k++) {
      const copy = await settingsOn(id, k);
      expect(copy.version).toBe(primary.version);
      expect(copy.shard).toBe(k);
      expect(JSON.parse(copy.config)).toMatchObject({ name: "renamed", active: false });
    }
    // Every shard refuses work for the deactivated session.
    for (let i = 0; i < 4; i++) {
      const { res, body } = await complete(id, { prompt: `after ${i}` });
      expect(res.status).toBe(409);
      expect(body).toMatchObject({ error: { code: "session_inactive" } });
    }
  });

  it("has a shard that missed a settings push take them from the session before it runs a task", async () => {
    const id = await shardedSession(2);
    const old = await runInDurableObject(shardStub(id, 0), (instance) => instance.snapshot());
    if (!old) throw new Error("no snapshot");
    expect((await admin(`/api/v1/admin/sessions/${id}`, "PATCH", { active: false })).status).toBe(200);
    // Shard 1 goes back to the settings before (as if the push had not reached it).
    await runInDurableObject(shardStub(id, 1), (instance) => instance.adopt(1, old));
    for (let i = 0; i < 2; i++) {
      const { res, body } = await complete(id, { prompt: `stale ${i}` });
      expect(res.status).toBe(409);
      expect(body).toMatchObject({ error: { code: "session_inactive" } });
    }
    expect((await settingsOn(id, 1)).version).toBe((await settingsOn(id, 0)).version);
    expect(await idsOn(id, 1)).toEqual([]);
  });

  it("refuses a task routed by settings it does not hold, and runs nothing", async () => {
    const id = await shardedSession(2);
    const input = {
      sessionId: id,
      request: { prompt: "routed by an old version", stream: false },
      requestKey: null,
      requestHash: "0".repeat(64),
      timeouts: { timeoutS: 30, precommitS: 20 },
    };
    for (const shard of [0, 1]) {
      const answer = await runInDurableObject(shardStub(id, shard), (instance) => instance.submit({ ...input, route: { shard, version: "an-older-version" } }));
      expect(answer).toMatchObject({ ok: false, status: 503, code: "stale_routing" });
      expect(await idsOn(id, shard)).toEqual([]);
    }
  });

  it("grows without losing a task: old tasks read, old request ids replay, new tasks spread", async () => {
    const { model } = await minersFor(["fastA"]);
    const id = await createSession({ model, redundancy: 1 });
    const before: number[] = [];
    for (let i = 0; i < 3; i++) before.push((await completeOk(id, { prompt: `grow ${i}`, request_id: `grow-${i}` })).completion.task_id);
    expect(before).toEqual([0, 1, 2]);

    const grown = await admin(`/api/v1/admin/sessions/${id}`, "PATCH", { shards: 4 });
    expect(grown.status).toBe(200);
    expect(await grown.json()).toMatchObject({ shards: 4, task_count: 3 });

    for (let i = 0; i < 3; i++) {
      const again = await completeOk(id, { prompt: `grow ${i}`, request_id: `grow-${i}` });
      expect(again.res.headers.get("x-idempotent-replay")).toBe("true");
      expect(again.completion.task_id).toBe(before[i]);
      expect((await call(`/api/v1/tasks/${id}/${before[i]}`)).status).toBe(200);
    }
    const after: number[] = [];
    for (let i = 0; i < 8; i++) after.push((await completeOk(id, { prompt: `grown ${i}` })).completion.task_id);
    // The sharded numbering starts above every id the session gave: 16.
    for (const taskId of after) expect(taskId).toBeGreaterThanOrEqual(MAX_SHARDS);
    expect(new Set(after.map((t) => t % MAX_SHARDS))).toEqual(new Set([0, 1, 2, 3]));
    expect((await session(id)).task_count).toBe(11);
    const listed = TaskList.parse(await (await call(`/api/v1/tasks/${id}?limit=100`)).json());
    expect(listed.tasks.map((t) => t.task_id)).toEqual([...before, ...after].sort((a, b) => b - a));
  });
});

describe("a sharded session's reports to the registry", () => {
  freezeSessionAlarms();

  // The reports waiting: the assignments carry them (pending-reports.ts).
  const pendingOn = (sessionId: number, shard: number) =>
    runInDurableObject(
      shardStub(sessionId, shard),
      (_instance, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM assignments WHERE report_seq IS NOT NULL").one().n,
    );

  async function agreed(minerId: string) {
    const { miners } = z.object({ miners: z.array(MinerPublicSchema) }).parse(await (await call("/api/v1/miners")).json());
    return miners.find((m) => m.id === minerId)?.stats.agreed;
  }

  it("are queued by each shard and sent in its own batches by its alarm", async () => {
    const { model, ids } = await minersFor(["fastA"]);
    const minerId = ids.fastA ?? "";
    const id = await createSession({ model, redundancy: 1, shards: 2 });
    for (let i = 0; i < 6; i++) await completeOk(id, { prompt: `report ${i}` });
    expect([await pendingOn(id, 0), await pendingOn(id, 1)]).toEqual([3, 3]);
    expect(await agreed(minerId)).toBe(0);
    expect(await runDurableObjectAlarm(shardStub(id, 1))).toBe(true);
    expect(await agreed(minerId)).toBe(3);
    expect(await runDurableObjectAlarm(shardStub(id, 0))).toBe(true);
    expect(await agreed(minerId)).toBe(6);
    expect([await pendingOn(id, 0), await pendingOn(id, 1)]).toEqual([0, 0]);
  });
});
