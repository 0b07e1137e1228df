import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type Sql, sqlOf } from "../durable-objects/sqlite-object";
import { TaskPayloads } from "../durable-objects/session/task-payloads";
import { sessionStub } from "../domain/objects/stubs";
import { createSession, minersFor } from "./helpers";

/** A Sql that runs every query as `EXPLAIN QUERY PLAN`, and keeps the plans' lines. */
function explaining(storage: SqlStorage): { sql: Sql; plans: string[] } {
  const plans: string[] = [];
  const real = sqlOf(storage);
  const sql = ((strings: TemplateStringsArray, ...values: SqlStorageValue[]) => {
    const explained = Object.assign([`EXPLAIN QUERY PLAN ${strings[0]}`, ...strings.slice(1)], { raw: strings.raw });
    const rows = real<{ detail: string }>(explained as TemplateStringsArray, ...values);
    plans.push(rows.map((r) => r.detail).join(" | "));
    return [];
  }) as Sql;
  return { sql, plans };
}

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
