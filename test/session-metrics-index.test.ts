import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { explaining } from "./query-plans";
import { sqlOf } from "../durable-objects/sqlite-object";
import { taskMetrics } from "../durable-objects/session/task-metrics";
import { taskSeries } from "../durable-objects/session/task-series";
import { sessionStub } from "../domain/objects/stubs";
import { call, createSession, minersFor } from "./helpers";

/** A session's tasks by creation time: the metrics' windows read their range of the index, and count what they did. */
describe("session metrics by creation time", () => {
  it("counts the window's tasks and the last minute's as before, reading them through the creation-time index", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const started = Date.now();
    for (const prompt of ["one", "two"]) expect((await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt } })).status).toBe(200);
    const ended = Date.now();

    await runInDurableObject(sessionStub(env, sessionId), (_instance, state) => {
      const sql = sqlOf(state.storage.sql);
      // The figures: both tasks in the window and in the last minute; none in a window before them, or a minute long after.
      const metrics = taskMetrics(sql, ended);
      expect(metrics).toMatchObject({ requests: 2, ended: 2, failed: 0, lastMinute: 2 });
      expect(taskMetrics(sql, ended + 120_000).lastMinute).toBe(0);
      const series = taskSeries(sql, { from: started - 1, bucketMs: ended - started + 2, buckets: 1 });
      expect(series.buckets[0]).toMatchObject({ tasks: 2, ended: 2, failed: 0 });
      expect(taskSeries(sql, { from: started - 60_000, bucketMs: 59_000, buckets: 1 }).buckets[0]!.tasks).toBe(0);

      // The plans: the windowed queries search the index; none scans the task table for them.
      const series_ = explaining(state.storage.sql);
      taskSeries(series_.sql, { from: started, bucketMs: 1000, buckets: 60 });
      expect(series_.plans).toHaveLength(2);
      for (const plan of series_.plans) expect(plan).toMatch(/SEARCH (t|tasks) USING (COVERING )?INDEX tasks_created \(created_at>\? AND created_at<\?\)/);
      const metrics_ = explaining(state.storage.sql);
      taskMetrics(metrics_.sql, ended);
      expect(metrics_.plans).toContainEqual(expect.stringMatching(/SEARCH tasks USING COVERING INDEX tasks_created \(created_at>\?\)/));
    });
  });
});
