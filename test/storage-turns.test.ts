import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createSession, minersFor, until } from "./helpers";
import { recordWrites, tally } from "./storage-writes";

const stubOf = (sessionId: number) => env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}`));
type Task = { status: string; assignments: { status: string; late: boolean }[]; events: { slot: number | null; state: string }[] };

/** Runs one task on a session of the given miners, recording the session object's writes until every miner call has ended. */
async function writesOfOneTask(miners: Parameters<typeof minersFor>[0]) {
  const { model } = await minersFor(miners);
  const sessionId = await createSession({ model, redundancy: miners.length });
  const writes = await recordWrites(stubOf(sessionId));
  const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "count my writes" } });
  expect(res.status).toBe(200);
  const answered = tally(writes);
  // Every slot ended (late results included): the task's records are complete.
  const task = await until(async () => {
    const t = (await (await call(`/api/v1/tasks/${sessionId}/0`)).json()) as Task;
    return t.assignments.every((a) => a.status === "ended") && t;
  });
  console.log(miners.length, answered, tally(writes));
  return { answered, settled: tally(writes), writes, task };
}

describe("storage turns per task", () => {
  it("redundancy 1", async () => {
    const { answered, settled, task } = await writesOfOneTask(["fastA"]);
    expect(task.status).toBe("ended");
    expect(answered.turns).toBeLessThanOrEqual(99);
    expect(settled.turns).toBeLessThanOrEqual(99);
  });

  it("redundancy 3", async () => {
    const { answered, settled, task } = await writesOfOneTask(["fastA", "fastB", "fastC"]);
    expect(task.status).toBe("ended");
    expect(answered.turns).toBeLessThanOrEqual(99);
    expect(settled.turns).toBeLessThanOrEqual(99);
  });
});
