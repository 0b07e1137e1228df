import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { explaining } from "./query-plans";
import { TaskPayloads } from "../durable-objects/session/task-payloads";
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
