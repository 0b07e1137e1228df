import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, createSession, minersFor, until } from "./helpers";
import { recordWrites, type Statement, tally } from "./storage-writes";

const stubOf = (sessionId: number) => env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}`));
type Task = { status: string; assignments: { slot: number; status: string; late: boolean }[]; events: { slot: number | null; state: string }[] };

/** Runs a task and waits until every slot of it ended (late results included): its records are then complete. */
async function runOne(sessionId: number, taskId: number, version: "v1" | "v3" = "v1"): Promise<Task> {
  const res = await call(`/api/${version}/completions/${sessionId}`, { method: "POST", json: { prompt: `count my writes ${taskId}` } });
  expect(res.status).toBe(200);
  return until(async () => {
    const t = (await (await call(`/api/v1/tasks/${sessionId}/${taskId}`)).json()) as Task;
    return t.assignments.every((a) => a.status === "ended") && t;
  });
}

/**
 * The session object's writes for a task on a warm session (its second: the
 * first fetched the miner snapshot and reserved a block of task ids,
 * task-ids.ts), up to the answer and in all.
 */
async function writesOfOneTask(miners: Parameters<typeof minersFor>[0], request: { request_id?: string } = {}, version: "v1" | "v3" = "v1") {
  const { model } = await minersFor(miners);
  const sessionId = await createSession({ model, redundancy: miners.length });
  const statements: Statement[] = [];
  const writes = await recordWrites(stubOf(sessionId), statements);
  await runOne(sessionId, 0, version);
  const cold = tally(writes);
  const reservation = writes.filter((w) => w.sql.startsWith("UPDATE session SET ids_reserved"));
  const from = writes.length;
  const fromStatement = statements.length;
  const res = await call(`/api/${version}/completions/${sessionId}`, { method: "POST", json: { prompt: "count my writes 1", ...request } });
  expect(res.status).toBe(200);
  const answered = tally(writes.slice(from));
  // Every statement the object ran for the task up to its answer, reads included.
  const toAnswer = statements.slice(fromStatement);
  const task = await until(async () => {
    const t = (await (await call(`/api/v1/tasks/${sessionId}/1`)).json()) as Task;
    return t.assignments.every((a) => a.status === "ended") && t;
  });
  const settled = tally(writes.slice(from));
  console.log(
    `${version} redundancy ${miners.length}${request.request_id ? " with a request id" : ""}: cold first task ${JSON.stringify(cold)}; warm, to the answer ${JSON.stringify(answered)}, in all ${JSON.stringify(settled)}`,
  );
  return { cold, reservation, answered, settled, task, toAnswer, writes: writes.slice(from) };
}

describe("storage turns per task", () => {
  // Figures before the held changes: redundancy 1, 3 turns (24 statements); redundancy 3, 5 turns to the answer and 7 in all (45).
  // With them: 2 turns (19 statements, then 9 with the outcome written as one set); 2 and 3 turns (30, then 18).
  // Issue 27: redundancy 1, 21 statements to the answer (10 reads, 11 writes) → 10 (writes only) → 9 (the task's `queued` line
  // written with its first assignment's) → 8 (the row inserted `assigned`, the status it ends its first turn with) → 7 (its miner's report written in its
  // assignment's update, no outbox row) → 5 (the history in the task's row, appended by its insert and its update: no
  // `task_events` rows) → 3 for a task without a request id (recorded once, with its outcome) → 2 (the receipt in the task's row,
  // inserted with it; 4 with a request id).
  it("redundancy 1, no request id: recorded once, with its outcome", async () => {
    const { reservation, answered, settled, task, toAnswer } = await writesOfOneTask(["fastA"]);
    // The first task recorded only with its outcome reserved its id and the next ones' (task-ids.ts).
    expect(reservation).toHaveLength(1);
    expect(answered.turns).toBe(1);
    expect(settled.turns).toBe(1);
    // The task inserted ended with its result, what it paid its miners, its history and its receipt, its assignment inserted
    // with its miner's report: 2. Before issue 27: 11 in two turns, the reward a statement of its own; then 10, the `queued`
    // line a statement of its own; then 9, the task's row inserted `queued` and updated; then 8, the report a row of the
    // outbox `pending_reports`; then 7, the record (task, assignment, history) a turn before the miner call and the outcome
    // (their updates, history, receipt) after it; then 5, the history in the task's row; then 3, the receipt a row of `receipts`.
    expect(settled.statements).toBe(2);
    // And no read on the way (issue 27; before: 10, the next task id, the alarm's four due times twice, the outbox's size):
    // the next id, the alarm and the outbox's size are known to the object that wrote them.
    expect(toAnswer.filter((s) => s.read).map((s) => s.sql)).toEqual([]);
    expect(toAnswer).toHaveLength(2);
    expect(toAnswer.some((s) => s.sql.includes("task_events") || s.sql.includes("receipts"))).toBe(false);
    expect(task.status).toBe("ended");
    // The history is whole and in order, although most of it was written in one turn.
    expect(task.events.map((e) => `${e.slot ?? "task"} ${e.state}`)).toEqual([
      "task queued",
      "0 assigned",
      "task assigned",
      "0 acked",
      "0 precommitted",
      "task precommitted",
      "0 committed",
      "task committed",
      "task ended",
    ]);
  });

  it("redundancy 1 with a request id: the record with its assignment before the miner call, then the outcome", async () => {
    const { answered, settled, toAnswer } = await writesOfOneTask(["fastA"], { request_id: "count-my-writes" });
    expect(answered.turns).toBe(2);
    expect(settled.turns).toBe(2);
    // The record (task inserted `assigned` with its `queued` line, first assignment: 2; the `assigned` lines held for the row's
    // next update), durable before the miner call so that a retry of the request id finds it, and the outcome (assignment with
    // its miner's report, task with result, what it paid its miners, the history lines since its insert and its receipt: 2;
    // before, 3, the receipt a row of `receipts`).
    expect(settled.statements).toBe(4);
    expect(toAnswer.some((s) => s.sql.includes("task_events") || s.sql.includes("receipts"))).toBe(false);
    // The lookup of the request id is the one read.
    expect(toAnswer.filter((s) => s.read).map((s) => s.sql)).toEqual(["SELECT * FROM task_rows WHERE request_id = ?"]);
  });

  it("redundancy 3: the outcome, and the late result once the last call ended", async () => {
    // The third miner answers long after the two that decide, so the answer comes between.
    const { answered, settled, task } = await writesOfOneTask(["fastA", "fastB", "steadyA"]);
    expect(answered.turns).toBe(1);
    expect(settled.turns).toBe(2);
    // The task inserted with its outcome and its receipt, its three assignments: 4 (before: 5, the receipt a row of
    // `receipts`); then the late result, its assignment's update and its history line: 2.
    expect(answered.statements).toBe(4);
    expect(settled.statements).toBe(6);
    const late = task.assignments.filter((a) => a.late);
    expect(late).toHaveLength(1);
    expect(task.events.at(-1)).toEqual({ slot: late[0]!.slot, state: "ended", at: expect.any(String) });
  });

  it("a running task reads live: its miner's ack shows before its row says so", async () => {
    const { model } = await minersFor(["trickle"]);
    const sessionId = await createSession({ model });
    const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "slowly", max_tokens: 10, stream: true } });
    const reader = res.body!.getReader();
    await reader.read(); // the first piece: the miner has answered and is generating
    const during = (await (await call(`/api/v1/tasks/${sessionId}/0`)).json()) as Task & { assignments: { acked_at: string | null }[] };
    expect(during.assignments[0]).toMatchObject({ status: "acked", acked_at: expect.any(String) });
    expect(during.events.map((e) => e.state)).toContain("acked");
    const row = await runInDurableObject(stubOf(sessionId), (_instance, state) =>
      state.storage.sql.exec<{ status: string; acked_at: number | null }>("SELECT status, acked_at FROM assignments WHERE task_id = 0").one(),
    );
    expect(row).toEqual({ status: "assigned", acked_at: null });
    while (!(await reader.read()).done);
    const after = (await (await call(`/api/v1/tasks/${sessionId}/0`)).json()) as Task;
    expect(after.status).toBe("ended");
    expect(after.assignments[0]).toMatchObject({ status: "ended" });
  });

  // The gateway's path (v3: the prompt and the result in R2). Before issue 27's v3 work: without a request id, 2 turns of 6
  // statements (the prompt's retention row a turn of its own before the miner call; the result's row; its expiry an update
  // of its own); with one, 3 turns of 10. Then 4 and 8 (the rows written ahead); then 3 and 7 (the receipt in the task's row).
  it("v3, redundancy 1, no request id: one turn, the task's two and its payloads' expiry, the rows written ahead", async () => {
    const { cold, answered, settled, writes, task } = await writesOfOneTask(["fastA"], {}, "v3");
    // The first v2/v3 task reserved its own keys and the next ones' (task-payloads.ts, `reserveKeys`): one statement,
    // in the turn before its R2 write, for a block of tasks.
    expect(cold.statements).toBe(5);
    expect(answered.turns).toBe(1);
    expect(settled.turns).toBe(1);
    // Its prompt and its result went to R2 under keys whose rows were written by that reservation: no row waits for R2.
    expect(writes.map((w) => w.sql.split(" (")[0]!.replace(/ SET .*/, ""))).toEqual(["INSERT INTO tasks", "INSERT INTO assignments", "UPDATE payloads"]);
    expect(task.status).toBe("ended");
  });

  it("v3, redundancy 1 with a request id: the record, the prompt's URN with the assignment, then the outcome", async () => {
    const { answered, settled, writes } = await writesOfOneTask(["fastA"], { request_id: "count-my-v3-writes" }, "v3");
    expect(answered.turns).toBe(3);
    expect(settled.turns).toBe(3);
    // Task inserted; after its prompt's R2 write, its URN, its assignment and status; the outcome with its payloads' expiry.
    expect(settled.statements).toBe(7);
    expect(writes.filter((w) => w.sql.startsWith("INSERT INTO payloads"))).toEqual([]);
  });
});
