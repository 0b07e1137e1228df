import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../workers/index";
import { call, createSession, fleet, minersFor, until } from "../helpers";
import { TEST_ROUTER_KEY } from "../keys";

type A2aTask = { id: string; contextId?: string; status: { state: string }; artifacts?: unknown[] };
type RpcAnswer = { result?: Record<string, unknown>; error?: { code: number; message: string } };

/** One JSON-RPC request to the A2A endpoint, each in its own request (as separate clients send them). */
async function rpc(sessionId: number, method: string, params: unknown): Promise<RpcAnswer> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request("http://router.test/api/v1/a2a", {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_ROUTER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: crypto.randomUUID(), method, params }),
    }),
    { ...env, A2A_SESSION_ID: String(sessionId) },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return (await res.json()) as RpcAnswer;
}

/** Lets the held miner answer; how many requests it was holding. */
async function release(): Promise<number> {
  const held = fleet().held;
  const res = await fetch(`${held.url}/dev/release`, { method: "POST", headers: { authorization: `Bearer ${held.token}` } });
  return ((await res.json()) as { released: number }).released;
}

describe("A2A: cancelling a task from another request", () => {
  it("ends the running task as cancelled and discards its result", async () => {
    const { model } = await minersFor(["held"]);
    const sessionId = await createSession({ model });
    const contextId = `ctx-${crypto.randomUUID()}`;

    // Request 1: message/send, blocking; its delegate task waits on the held miner.
    const sending = rpc(sessionId, "message/send", {
      message: { kind: "message", messageId: crypto.randomUUID(), contextId, role: "user", parts: [{ kind: "text", text: "Summarize what a router does." }] },
    });
    const task = await until(async () => {
      const listed = await rpc(sessionId, "ListTasks", { contextId, pageSize: 10 });
      const tasks = (listed.result?.["tasks"] ?? []) as A2aTask[];
      return tasks.find((t) => t.status.state === "TASK_STATE_WORKING");
    });

    // Request 2: cancel, while the miner still holds the answer.
    const cancelled = await rpc(sessionId, "tasks/cancel", { id: task.id });
    expect(cancelled.error).toBeUndefined();
    expect(cancelled.result).toMatchObject({ id: task.id, status: { state: "canceled" } });

    // The miner answers now; the router task completes, the A2A task must not take its result.
    await until(async () => (await release()) > 0);
    const sent = await sending;
    expect(sent.error).toBeUndefined();
    expect(sent.result).toMatchObject({ id: task.id, status: { state: "canceled" } });
    expect(sent.result?.["artifacts"] ?? []).toEqual([]);

    const got = await rpc(sessionId, "tasks/get", { id: task.id });
    expect(got.result).toMatchObject({ id: task.id, status: { state: "canceled" } });
    expect(got.result?.["artifacts"] ?? []).toEqual([]);

    // The router task ran on (its miner was already working) and stays in the session.
    const tasks = (await (await call(`/api/v1/tasks/${sessionId}`)).json()) as { tasks: { request_id: string; status: string }[] };
    expect(tasks.tasks.find((t) => t.request_id === `a2a-${task.id}`)).toMatchObject({ status: "ended" });
  });

  it("a task that already completed is not cancelable, and keeps its result", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const sent = await rpc(sessionId, "message/send", { message: { kind: "message", messageId: crypto.randomUUID(), role: "user", parts: [{ kind: "text", text: "Hello." }] } });
    const id = String(sent.result?.["id"]);
    expect(sent.result).toMatchObject({ status: { state: "completed" } });
    expect((await rpc(sessionId, "tasks/cancel", { id })).error).toMatchObject({ code: -32002 });
    const got = await rpc(sessionId, "tasks/get", { id });
    expect(got.result).toMatchObject({ status: { state: "completed" } });
    expect(got.result?.["artifacts"]).toHaveLength(1);
  });
});
