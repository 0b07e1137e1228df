import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, createSession, fleet, minersFor, until } from "./helpers";
import { ID_BLOCK } from "../durable-objects/session/task-ids";
import { KEY_BLOCK } from "../durable-objects/session/task-payloads";
import type { FleetName } from "./setup/global-setup";

/**
 * A crash mid-task, as faithfully as the runtime here allows: the session's
 * Durable Object is aborted (`ctx.abort()`), which drops its instance with
 * everything in memory and its calls in flight, and keeps only what storage
 * committed; the next request starts a new instance. What must hold
 * (docs/storage-schema.md, "What survives a crash"): nothing a client was
 * answered is lost, and nothing is dispatched twice.
 */

const stubOf = (sessionId: number) => env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}`));

async function minerApi(name: FleetName, path: string, method = "GET") {
  const m = fleet()[name];
  const res = await fetch(`${m.url}${path}`, { method, headers: { authorization: `Bearer ${m.token}` } });
  return (await res.json()) as { requests: number };
}
/** How many completion requests the (loopback) miner has received. */
const hits = async (name: FleetName) => (await minerApi(name, "/dev/stats")).requests;
const release = (name: FleetName) => minerApi(name, "/dev/release", "POST");

async function crash(sessionId: number) {
  const aborted = await runInDurableObject(stubOf(sessionId), (_instance, state) => state.abort("simulated crash")).catch((err: unknown) => err);
  expect(String(aborted)).toContain("simulated crash");
}

/** Moves the clock past the task's deadline and fires the session's alarm (the Session reads the test's Date: they share an isolate). */
async function fireAlarmAfter(sessionId: number, deadlineAt: string) {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.parse(deadlineAt) + 1);
  expect(await runDurableObjectAlarm(stubOf(sessionId))).toBe(true);
  vi.useRealTimers();
}

type Task = {
  status: string;
  deadline_at: string;
  error: { code: string } | null;
  assignments: { miner: string; status: string; precommit_hash: string | null }[];
  events: { slot: number | null; state: string }[];
};
/** A task's history as `slot state` lines. */
const history = (task: Task) => task.events.map((e) => `${e.slot ?? "task"} ${e.state}`);
const getTask = async (sessionId: number, taskId: number) => (await (await call(`/api/v1/tasks/${sessionId}/${taskId}`)).json()) as Task;

const complete = (sessionId: number, json: Record<string, unknown>) => call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { timeout: 30, ...json } });

describe("a crash mid-task", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("keeps every answered task, dispatches a retried request id never again, and the alarm ends the orphan as a timeout", async () => {
    await minerApi("crashHeld", "/dev/reset-stats", "POST");
    const { model, ids } = await minersFor(["crashHeld"]);
    const sessionId = await createSession({ model });

    // Task 0 is answered before the crash.
    const answering = complete(sessionId, { prompt: "answered before the crash", request_id: "crash-answered" });
    await until(async () => (await hits("crashHeld")) === 1);
    await release("crashHeld");
    const answered = await answering;
    expect(answered.status).toBe(200);
    const answer = await answered.json();

    // Task 1 is on the miner when the object crashes: its client gets no answer.
    const running = complete(sessionId, { prompt: "cut short by the crash", request_id: "crash-running" });
    await until(async () => (await hits("crashHeld")) === 2);
    await crash(sessionId);
    const cut = await running;
    expect(cut.status).toBe(503);
    expect(cut.headers.get("retry-after")).toBe("1");
    expect(await cut.json()).toMatchObject({ error: { code: "object_restarted" } });

    // The answered task is intact, and a retry replays it without a call.
    const replay = await complete(sessionId, { prompt: "answered before the crash", request_id: "crash-answered" });
    expect(replay.status).toBe(200);
    expect(replay.headers.get("x-idempotent-replay")).toBe("true");
    expect(await replay.json()).toEqual(answer);

    // The running task's record and its miner's assignment were durable before the miner was called.
    const orphan = await getTask(sessionId, 1);
    expect(orphan.status).toBe("assigned");
    expect(orphan.assignments).toEqual([expect.objectContaining({ miner: ids.crashHeld, status: "assigned" })]);
    // Its history too, as written with it (its `assigned` lines, held for the row's next update, are rebuilt from the assignment).
    expect(history(orphan)).toEqual(["task queued", "0 assigned", "task assigned"]);

    // Retried while its deadline has not passed: in progress, not dispatched again.
    const early = await complete(sessionId, { prompt: "cut short by the crash", request_id: "crash-running" });
    expect(early.status).toBe(409);
    expect(await early.json()).toMatchObject({ error: { code: "task_in_progress" } });

    // Its deadline alarm (set with the record, so it survived) ends it as a timeout.
    await fireAlarmAfter(sessionId, orphan.deadline_at);
    const ended = await getTask(sessionId, 1);
    expect(ended.status).toBe("timed_out");
    expect(ended.error).toMatchObject({ code: "timeout" });
    expect(ended.assignments).toEqual([expect.objectContaining({ status: "timed_out" })]);
    expect(history(ended)).toEqual(["task queued", "0 assigned", "task assigned", "task timed_out"]);

    // Retried after the alarm: the timeout, replayed.
    const late = await complete(sessionId, { prompt: "cut short by the crash", request_id: "crash-running" });
    expect(late.status).toBe(504);
    expect(late.headers.get("x-idempotent-replay")).toBe("true");

    expect(await hits("crashHeld")).toBe(2);
    expect((await (await call(`/api/v1/sessions/${sessionId}`)).json()) as { task_count: number }).toMatchObject({ task_count: 2 });
  });

  it("loses only the changes held in memory: a result in before the crash, never answered, is gone and the task times out", async () => {
    await minerApi("crashHeld", "/dev/reset-stats", "POST");
    await minerApi("crashHeld2", "/dev/reset-stats", "POST");
    const { model, ids } = await minersFor(["fastA", "crashHeld", "crashHeld2"]);
    const sessionId = await createSession({ model, redundancy: 3 });

    const running = complete(sessionId, { prompt: "one result of three", request_id: "crash-r3" });
    // fastA's result is in (the live view shows it from memory); the held two have theirs to come.
    const live = await until(async () => {
      const task = await getTask(sessionId, 0).catch(() => undefined);
      return task?.assignments?.some((a) => a.miner === ids.fastA && a.status === "precommitted") && task;
    });
    expect(live.assignments).toHaveLength(3);
    await until(async () => (await hits("crashHeld")) === 1 && (await hits("crashHeld2")) === 1);
    // Its row lags: the result is held until the task's outcome is written.
    const rows = await runInDurableObject(stubOf(sessionId), (_instance, state) =>
      state.storage.sql.exec<{ miner_id: string; status: string }>("SELECT miner_id, status FROM assignments WHERE task_id = 0 ORDER BY slot").toArray(),
    );
    expect(rows.find((r) => r.miner_id === ids.fastA)).toMatchObject({ status: "assigned" });

    await crash(sessionId);
    expect((await running).status).toBeGreaterThanOrEqual(500);

    // All three assignments survived; the held result did not (no client saw it).
    const orphan = await getTask(sessionId, 0);
    expect(orphan.status).toBe("assigned");
    expect(orphan.assignments.map((a) => [a.miner, a.status, a.precommit_hash])).toEqual(
      expect.arrayContaining([
        [ids.fastA, "assigned", null],
        [ids.crashHeld, "assigned", null],
        [ids.crashHeld2, "assigned", null],
      ]),
    );

    // Its history has every assignment, not the lost result's lines.
    expect(history(orphan)).toEqual(["task queued", "0 assigned", "task assigned", "1 assigned", "2 assigned"]);

    await fireAlarmAfter(sessionId, orphan.deadline_at);
    const ended = await getTask(sessionId, 0);
    expect(ended.status).toBe("timed_out");
    expect(history(ended)).toEqual(["task queued", "0 assigned", "task assigned", "1 assigned", "2 assigned", "task timed_out"]);
    const retried = await complete(sessionId, { prompt: "one result of three", request_id: "crash-r3" });
    expect(retried.status).toBe(504);
    expect([await hits("crashHeld"), await hits("crashHeld2")]).toEqual([1, 1]);
  });

  it("a task with no request id is recorded with its outcome: read live from memory while it runs, gone whole with a crash, its id given to no other task", async () => {
    await minerApi("crashHeld", "/dev/reset-stats", "POST");
    const { model, ids } = await minersFor(["crashHeld"]);
    const sessionId = await createSession({ model });

    // Task 0 is answered.
    const first = complete(sessionId, { prompt: "answered, no request id" });
    await until(async () => (await hits("crashHeld")) === 1);
    await release("crashHeld");
    expect((await first).status).toBe(200);

    // Task 1 is on the miner: no row yet, but every read shows it as it runs, the node's metrics included.
    const received = async () => ((await (await call("/neuroshard/api/v1/metrics", { key: null })).json()) as { inference: { requests_total: number } }).inference.requests_total;
    const before = await received();
    const running = complete(sessionId, { prompt: "lost with the object" });
    await until(async () => (await hits("crashHeld")) === 2);
    const rows = await runInDurableObject(stubOf(sessionId), (_instance, state) => state.storage.sql.exec("SELECT task_id FROM tasks ORDER BY task_id").toArray());
    expect(rows).toEqual([{ task_id: 0 }]);
    const live = await getTask(sessionId, 1);
    expect(live.status).toBe("assigned");
    expect(live.assignments).toEqual([expect.objectContaining({ miner: ids.crashHeld, status: "assigned" })]);
    const listed = (await (await call(`/api/v1/tasks/${sessionId}`)).json()) as { tasks: { task_id: number; status: string }[] };
    expect(listed.tasks.map((t) => [t.task_id, t.status])).toEqual([
      [1, "assigned"],
      [0, "ended"],
    ]);
    expect((await (await call(`/api/v1/sessions/${sessionId}`)).json()) as { task_count: number }).toMatchObject({ task_count: 2 });
    expect((await received()) - before).toBe(1);

    // The crash: its client's call fails, and nothing of it remains.
    await crash(sessionId);
    expect((await running).status).toBe(503);
    expect((await call(`/api/v1/tasks/${sessionId}/1`)).status).toBe(404);
    expect((await (await call(`/api/v1/sessions/${sessionId}`)).json()) as { task_count: number }).toMatchObject({ task_count: 1 });

    // The next task takes an id above the block task 0 reserved before its miner call (0 to ID_BLOCK - 1), not task 1's,
    // which its miner saw.
    const next = complete(sessionId, { prompt: "after the crash" });
    await until(async () => (await hits("crashHeld")) === 3);
    await release("crashHeld");
    const answered = await next;
    expect(answered.status).toBe(200);
    expect(answered.headers.get("x-task-id")).toBe(String(ID_BLOCK));
    expect(((await answered.json()) as { task_id: number }).task_id).toBe(ID_BLOCK);
  });

  it("a v3 task with no request id lost in a crash leaves its prompt to expire: the retention period after its deadline at the earliest, then gone from R2", async () => {
    await minerApi("crashHeld", "/dev/reset-stats", "POST");
    const { model } = await minersFor(["crashHeld"]);
    const sessionId = await createSession({ model });
    const sentAt = Date.now();
    const running = call(`/api/v3/completions/${sessionId}`, { method: "POST", json: { prompt: "a prompt in R2, then a crash", timeout: 30 } });
    await until(async () => (await hits("crashHeld")) === 1);
    await crash(sessionId);
    expect((await running).status).toBe(503);

    // No task row, but the retention rows of the keys reserved before its prompt went to R2 (its own and the next ids',
    // task-payloads.ts `reserveKeys`), each with its expiry: the retention period after the task's deadline at the earliest.
    const rows = await runInDurableObject(stubOf(sessionId), (_instance, state) => ({
      tasks: state.storage.sql.exec("SELECT task_id FROM tasks").toArray(),
      payloads: state.storage.sql.exec<{ object_key: string; expires_at: number | null }>("SELECT object_key, expires_at FROM payloads").toArray(),
    }));
    expect(rows.tasks).toEqual([]);
    expect(rows.payloads).toHaveLength(2 * KEY_BLOCK);
    const retentionMs = 604_800_000;
    for (const row of rows.payloads) expect(row.expires_at).toBeGreaterThanOrEqual(sentAt + 30_000 + retentionMs);
    const prompt = rows.payloads.find((r) => r.object_key.startsWith(`s${sessionId}/t0/prompt-`));
    expect(await (await env.PAYLOADS.get(prompt!.object_key))?.text()).toBe("a prompt in R2, then a crash");

    // The alarm, due by then, deletes it.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(prompt!.expires_at! + 1);
    expect(await runDurableObjectAlarm(stubOf(sessionId))).toBe(true);
    vi.useRealTimers();
    expect(await env.PAYLOADS.get(prompt!.object_key)).toBeNull();
    const left = await runInDurableObject(stubOf(sessionId), (_instance, state) => state.storage.sql.exec("SELECT object_key FROM payloads").toArray());
    expect(left).toEqual([]);
  });
});
