import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, createSession, minersFor, until } from "./helpers";

const stubOf = (sessionId: number) => env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}`));

describe("session state", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

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
        past - 5000,
        past - 5000,
        past - 2000,
        past,
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

  it("times a recorded task out by its deadline alarm even when the client has gone", async () => {
    const { model } = await minersFor(["hanging"]);
    const sessionId = await createSession({ model });
    const controller = new AbortController();
    // With a request id: recorded before its miner call, its deadline alarm set.
    const pending = call(`/api/v1/completions/${sessionId}`, {
      method: "POST",
      json: { prompt: "nobody waits", timeout: 60, precommit_timeout: 45, request_id: "client-gone" },
      signal: controller.signal,
    }).catch(() => null);
    // The client leaves once its task is on the (hanging) miner. Nothing tells
    // the test when the request has crossed the Worker into the Session, so
    // poll the task's record.
    type Task = { status: string; deadline_at: string; error: { code: string } | null; assignments: { status: string }[] };
    const running = await until(async () => {
      const res = await call(`/api/v1/tasks/${sessionId}/0`);
      const task = res.status === 200 ? ((await res.json()) as Task) : undefined;
      return task?.status === "assigned" ? task : undefined;
    });
    controller.abort();
    await pending;
    // Its deadline passes (the Session reads the test's clock: they share an
    // isolate and only Date is faked) and the deadline alarm fires.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.parse(running.deadline_at) + 1);
    expect(await runDurableObjectAlarm(stubOf(sessionId))).toBe(true);
    const task = (await (await call(`/api/v1/tasks/${sessionId}/0`)).json()) as Task;
    expect(task.status).toBe("timed_out");
    expect(task.error!.code).toBe("timeout");
    expect(task.assignments.map((a) => a.status)).toEqual(["timed_out"]);
  });

  it("times a task held in memory out by the object's own clock when the client has gone, and records it then", async () => {
    const { model } = await minersFor(["hanging"]);
    const sessionId = await createSession({ model });
    const controller = new AbortController();
    const pending = call(`/api/v1/completions/${sessionId}`, {
      method: "POST",
      json: { prompt: "nobody waits either", timeout: 5, precommit_timeout: 2 },
      signal: controller.signal,
    }).catch(() => null);
    type Task = { status: string; error: { code: string } | null; assignments: { status: string }[] };
    await until(async () => (await call(`/api/v1/tasks/${sessionId}/0`)).status === 200);
    controller.abort();
    await pending;
    // Its precommit deadline passes on the object's own clock, with no replacement to try.
    const task = await until(async () => {
      const t = (await (await call(`/api/v1/tasks/${sessionId}/0`)).json()) as Task;
      return t.status === "timed_out" && t;
    });
    expect(task.error!.code).toBe("timeout");
    expect(task.assignments.map((a) => a.status)).toEqual(["timed_out"]);
    // Its rows are written: the object's storage says what its view says.
    const row = await runInDurableObject(stubOf(sessionId), (_instance, state) => state.storage.sql.exec<{ status: string }>("SELECT status FROM tasks WHERE task_id = 0").one());
    expect(row.status).toBe("timed_out");
  });
});
