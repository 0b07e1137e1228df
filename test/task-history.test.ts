import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { sqlOf } from "../durable-objects/sqlite-object";
import { slowestLatencies, taskMetrics } from "../durable-objects/session/task-metrics";
import { latencyBin, taskSeries } from "../durable-objects/session/task-series";
import { call, createSession, minersFor, until } from "./helpers";

/**
 * A task's history (`events` of GET /api/v1/tasks/{session}/{task}) is kept in
 * its row (`tasks.history`, durable-objects/session/task-history.ts); tasks
 * written before keep theirs in `task_events`, which is read first.
 */

const stubOf = (sessionId: number) => env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}`));
type Line = { slot: number | null; state: string; at: string };
type Task = { status: string; created_at: string; assignments: { slot: number; status: string; late: boolean }[]; events: Line[] };

const getTask = async (sessionId: number, taskId: number) => (await (await call(`/api/v1/tasks/${sessionId}/${taskId}`)).json()) as Task;
const settled = (sessionId: number, taskId: number) =>
  until(async () => {
    const t = await getTask(sessionId, taskId);
    return t.assignments.every((a) => a.status === "ended") && t;
  });
const complete = async (sessionId: number, prompt: string) => {
  const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt } });
  expect(res.status).toBe(200);
};

/** What the task's row and `task_events` hold of its history. */
const stored = (sessionId: number, taskId: number) =>
  runInDurableObject(stubOf(sessionId), (_instance, state) => {
    const history = state.storage.sql.exec<{ history: string | null }>("SELECT history FROM tasks WHERE task_id = ?", taskId).one().history;
    const legacy = state.storage.sql
      .exec<{ slot: number | null; state: string; at: number }>("SELECT slot, state, at FROM task_events WHERE task_id = ? ORDER BY id", taskId)
      .toArray();
    return { history: history === null ? null : (JSON.parse(history) as [number | null, string, number][]), legacy };
  });

/** Moves the lines in the task's row into `task_events` and clears the column: the task as the code before `tasks.history` left it. */
const asWrittenBefore = (sessionId: number, taskId: number) =>
  runInDurableObject(stubOf(sessionId), (_instance, state) => {
    const sql = state.storage.sql;
    const { history } = sql.exec<{ history: string }>("SELECT history FROM tasks WHERE task_id = ?", taskId).one();
    for (const [slot, s, at] of JSON.parse(history) as [number | null, string, number][]) {
      sql.exec("INSERT INTO task_events (task_id, slot, state, at) VALUES (?, ?, ?, ?)", taskId, slot, s, at);
    }
    sql.exec("UPDATE tasks SET history = NULL WHERE task_id = ?", taskId);
  });

const asLines = (lines: [number | null, string, number][]) => lines.map(([slot, state, at]) => ({ slot, state, at: new Date(at).toISOString() }));

describe("a task's history in its row", () => {
  it("is written to the row, in order; a late result after the answer appends to it", async () => {
    // steadyA answers 500 ms after the two that decide: its result comes after the answer.
    const { model } = await minersFor(["fastA", "fastB", "steadyA"]);
    const sessionId = await createSession({ model, redundancy: 3 });
    await complete(sessionId, "history in the row");
    const answered = await stored(sessionId, 0);
    expect(answered.legacy).toEqual([]);
    expect(answered.history?.at(-1)).toEqual([null, "ended", expect.any(Number)]);

    const task = await settled(sessionId, 0);
    const late = task.assignments.filter((a) => a.late);
    expect(late).toHaveLength(1);
    const after = await stored(sessionId, 0);
    // The lines written with the answer, then the late miner's (its ack, held since, and its result).
    const written = answered.history ?? [];
    expect(after.history?.slice(0, written.length)).toEqual(written);
    expect(after.history?.slice(written.length).map(([slot, state]) => [slot, state])).toEqual([
      [late[0]!.slot, "acked"],
      [late[0]!.slot, "ended"],
    ]);
    expect(task.events).toEqual(asLines(after.history ?? []));
    expect(task.events.map((e) => `${e.slot ?? "task"} ${e.state}`).slice(0, 3)).toEqual(["task queued", "0 assigned", "task assigned"]);
    expect(task.events.filter((e) => e.slot === null).map((e) => e.state)).toEqual(["queued", "assigned", "precommitted", "committed", "ended"]);
  });

  it("reads a task written before it from task_events, then its row's lines (a late result after the change)", async () => {
    const { model } = await minersFor(["fastA", "fastB", "steadyA"]);
    const sessionId = await createSession({ model, redundancy: 3 });
    await complete(sessionId, "history across the change");
    // Answered by the code before: its lines so far are rows of task_events, its row has none.
    await asWrittenBefore(sessionId, 0);
    const task = await settled(sessionId, 0);
    const after = await stored(sessionId, 0);
    const late = task.assignments.find((a) => a.late);
    expect(after.history?.map(([slot, state]) => [slot, state])).toEqual([
      [late?.slot, "acked"],
      [late?.slot, "ended"],
    ]);
    expect(after.legacy.at(-1)).toMatchObject({ slot: null, state: "ended" });
    expect(task.events).toEqual([...after.legacy.map((e) => ({ ...e, at: new Date(e.at).toISOString() })), ...asLines(after.history ?? [])]);
  });

  it("reads a task written wholly before it the same, and its latency the same in the metrics", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    await complete(sessionId, "an old task");
    await complete(sessionId, "a new task");
    const old = await settled(sessionId, 0);
    const fresh = await settled(sessionId, 1);
    const views = [await (await call(`/api/v1/tasks/${sessionId}/0`)).text(), await (await call(`/api/v1/tasks/${sessionId}/1`)).text()];
    await asWrittenBefore(sessionId, 0);
    expect((await stored(sessionId, 0)).history).toBeNull();
    // The client sees exactly what it saw.
    expect(await (await call(`/api/v1/tasks/${sessionId}/0`)).text()).toBe(views[0]);
    expect(await (await call(`/api/v1/tasks/${sessionId}/1`)).text()).toBe(views[1]);

    // A task's latency runs from its creation to its `ended` line, for both.
    const latency = (t: Task) => Date.parse(t.events.find((e) => e.slot === null && e.state === "ended")?.at ?? "") - Date.parse(t.created_at);
    const expected = [latency(old), latency(fresh)];
    const read = await runInDurableObject(stubOf(sessionId), (_instance, state) => {
      const sql = sqlOf(state.storage.sql);
      const now = Date.now();
      return {
        sum: taskMetrics(sql, now).latencySumMs,
        slowest: slowestLatencies(sql, 10),
        series: taskSeries(sql, { from: now - 3_600_000, bucketMs: 3_600_000, buckets: 2 }).buckets.map((b) => b.latency),
      };
    });
    expect(read.sum).toBe(expected[0]! + expected[1]!);
    expect(read.slowest).toEqual([...expected].sort((a, b) => b - a));
    const bins = read.series.flatMap((b) => Object.entries(b).flatMap(([bin, n]) => Array<number>(n).fill(Number(bin))));
    expect(bins.sort()).toEqual(expected.map(latencyBin).sort());
  });
});
