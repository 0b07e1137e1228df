import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { explaining } from "./query-plans";
import { KEY_BLOCK, KEY_WINDOW_MS, TaskPayloads } from "../durable-objects/session/task-payloads";
import { sqlOf } from "../durable-objects/sqlite-object";
import { sessionStub } from "../domain/objects/stubs";
import { createSession, minersFor } from "./helpers";

/**
 * A v2/v3 task's end sets its payloads' expiry, and a discarded task's payloads are deleted, by task: the
 * retention period keeps 7 days of payload rows, so each must search the task's rows, not scan them all.
 */
describe("a task's payloads by task", () => {
  it("expires and discards a task's payloads through the task index", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    await runInDurableObject(sessionStub(env, sessionId), async (_instance, state) => {
      const explained = explaining(state.storage.sql);
      const payloads = new TaskPayloads(env, explained.sql);
      payloads.expireTask(42, Date.now());
      await payloads.discardTask(42);
      expect(explained.plans).toHaveLength(2);
      for (const plan of explained.plans) expect(plan).toMatch(/SEARCH payloads USING INDEX payloads_task \(task_id=\?\)/);
    });
  });
});

/**
 * A v2/v3 task's keys are reserved ahead, a block of ids at a time, each with its retention row: most tasks take
 * theirs from the block and write nothing before their R2 writes; one whose deadline the block's rows would not
 * outlive by the retention period reserves a block of its own.
 */
describe("reserved payload keys", () => {
  it("reserves a block of ids' keys in one statement, hands them out in order, and renews them past the window", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    await runInDurableObject(sessionStub(env, sessionId), async (_instance, state) => {
      const now = Date.now();
      const payloads = new TaskPayloads(env, sqlOf(state.storage.sql), () => now);
      const session = { id: sessionId, private: false };
      const next = (id: number) => id + 1;
      const rowsOf = () =>
        state.storage.sql.exec<{ object_key: string; task_id: number; expires_at: number }>("SELECT object_key, task_id, expires_at FROM payloads WHERE task_id >= 1000").toArray();

      const first = payloads.reserveKeys(session, 1000, now + 60_000, next);
      expect(first.written).toBe(true);
      expect(first.keys.prompt).toMatch(new RegExp(`^s${sessionId}/t1000/prompt-[0-9a-f]{32}$`));
      expect(first.keys.result).toMatch(new RegExp(`^s${sessionId}/t1000/result-[0-9a-f]{32}$`));
      const rows = rowsOf();
      expect(rows).toHaveLength(2 * KEY_BLOCK);
      expect(new Set(rows.map((r) => r.task_id)).size).toBe(KEY_BLOCK);
      // Every row outlives the window by the retention period (7 days by default).
      for (const r of rows) expect(r.expires_at).toBe(now + KEY_WINDOW_MS + 604_800_000);

      // The next id's keys come from the block: no statement.
      const second = payloads.reserveKeys(session, 1001, now + 60_000, next);
      expect(second.written).toBe(false);
      expect(rows.map((r) => r.object_key)).toContain(second.keys.prompt);
      expect(rowsOf()).toHaveLength(2 * KEY_BLOCK);

      // A deadline past the window: the block's rows would expire too soon for it, so a new block is reserved.
      const late = payloads.reserveKeys(session, 1002, now + KEY_WINDOW_MS + 1, next);
      expect(late.written).toBe(true);
      expect(late.keys.prompt).not.toBe(rows.find((r) => r.task_id === 1002 && r.object_key.includes("/prompt-"))?.object_key);
      expect(rowsOf().find((r) => r.object_key === late.keys.prompt)?.expires_at).toBe(now + KEY_WINDOW_MS + 1 + 604_800_000);
    });
  });
});
