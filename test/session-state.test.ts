import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, createSession, minersFor } from "./helpers";

const stubOf = (sessionId: number) => env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}`));

describe("session state", () => {
  it("survives a Durable Object restart, and idempotency with it", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const first = await (await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "keep me", request_id: "survive-1" } })).json();
    const before = await (await call(`/api/v1/tasks/${sessionId}/0`)).json();

    await evictDurableObject(stubOf(sessionId));

    expect(await (await call(`/api/v1/tasks/${sessionId}/0`)).json()).toEqual(before);
    expect(await (await call(`/api/v1/sessions/${sessionId}`)).json()).toMatchObject({ id: sessionId, task_count: 1 });
    const replay = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "keep me", request_id: "survive-1" } });
    expect(await replay.json()).toEqual(first);
  });

  it("ends a task left open by a restart when its deadline alarm fires", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const stub = stubOf(sessionId);
    // A task whose run was lost (the object restarted mid-task): only its record remains.
    await runInDurableObject(stub, async (_instance, state) => {
      const past = Date.now() - 1000;
      state.storage.sql.exec(
        `INSERT INTO tasks (task_id, request_id, request_hash, status, kind, request, redundancy, created_at, updated_at, precommit_deadline_at, deadline_at)
         VALUES (0, NULL, 'h', 'assigned', 'completion', '{"kind":"completion","model":"m","prompt":"p"}', 1, ?, ?, ?, ?)`,
        past - 5000, past - 5000, past - 2000, past,
      );
      state.storage.sql.exec(`INSERT INTO assignments (task_id, slot, miner_id, status, assigned_at) VALUES (0, 0, 'some-miner', 'acked', ?)`, past - 5000);
      await state.storage.setAlarm(past);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const task = (await (await call(`/api/v1/tasks/${sessionId}/0`)).json()) as {
      status: string;
      error: { code: string };
      assignments: { status: string }[];
    };
    expect(task.status).toBe("timed_out");
    expect(task.error.code).toBe("timeout");
    expect(task.assignments[0]!.status).toBe("timed_out");
  });

  it("times a task out even when the client has gone", async () => {
    const { model } = await minersFor(["hanging"]);
    const sessionId = await createSession({ model });
    const controller = new AbortController();
    const pending = call(`/api/v1/completions/${sessionId}`, {
      method: "POST",
      json: { prompt: "nobody waits", timeout: 5, precommit_timeout: 2 },
      signal: controller.signal,
    }).catch(() => null);
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    await pending;
    const end = Date.now() + 10_000;
    let status = "";
    while (Date.now() < end && status !== "timed_out") {
      await new Promise((r) => setTimeout(r, 100));
      const res = await call(`/api/v1/tasks/${sessionId}/0`);
      if (res.status === 200) status = ((await res.json()) as { status: string }).status;
    }
    expect(status).toBe("timed_out");
  });
});
