/**
 * The runtime killed mid-task, run from Node (the `runtime` project of
 * vitest.config.ts): the built Worker (`npm run build`'s dist/) on workerd
 * through Miniflare, with its Durable Objects and R2 persisted on disk as in
 * dev; workerd is killed with SIGKILL while a task waits on its miner, then
 * started again on the same folder. What must hold (docs/storage-schema.md,
 * "What survives a crash"): nothing a client was answered is lost, nothing is
 * dispatched twice, and the orphaned task ends as a timeout by its alarm.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workerdBelow } from "../../scripts/bench/cpu.ts";
import { build, type Runtime, startMiniflare } from "../../scripts/bench/runtimes.ts";
import { freePort } from "../../scripts/ports.ts";
import { provision } from "../../scripts/provision.ts";
import { type DevMiner, startDevMiner } from "../../tools/dev-miner/server.ts";
import { DEV_ADMIN_TOKEN, DEV_ROUTER_TOKEN } from "../../domain/config/dev-credentials.ts";

const MINER_TOKEN = "kill-test-miner-token";
const SESSION = 7;

let miner: DevMiner;
let persistTo: string;
let runtime: Runtime | undefined;

const start = async () => startMiniflare({ port: await freePort(), persistTo, vars: { ENVIRONMENT: "development" } });

async function minerApi(path: string, method = "GET") {
  const res = await fetch(`${miner.url}${path}`, { method, headers: { authorization: `Bearer ${MINER_TOKEN}` } });
  return (await res.json()) as { requests: number };
}
const hits = async () => (await minerApi("/dev/stats")).requests;

function complete(origin: string, json: Record<string, unknown>) {
  return fetch(`${origin}/api/v1/completions/${SESSION}`, {
    method: "POST",
    headers: { authorization: `Bearer ${DEV_ROUTER_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ timeout: 5, precommit_timeout: 2, ...json }),
  });
}

type Task = { status: string; error: { code: string } | null; assignments: { miner: string; status: string }[] };
async function getTask(origin: string, taskId: number): Promise<Task> {
  const res = await fetch(`${origin}/api/v1/tasks/${SESSION}/${taskId}`, { headers: { authorization: `Bearer ${DEV_ROUTER_TOKEN}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Task;
}

/** Polls until `probe` gives a value; bounded (the waits here are for a miner or an alarm a few seconds off). */
async function until<T>(probe: () => Promise<T | undefined | false>, seconds = 20): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`condition not met within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  build();
  persistTo = mkdtempSync(join(tmpdir(), "router-kill-"));
  // Holds every request until /dev/release: the test decides when a task may finish.
  miner = await startDevMiner({ name: "held", token: MINER_TOKEN, port: 0, models: ["*"], hold: true, latencyMs: 0 });
  runtime = await start();
  await provision({
    origin: runtime.origin,
    adminKey: DEV_ADMIN_TOKEN,
    miners: [{ id: "held-miner", url: miner.url, credential: MINER_TOKEN, models: ["kill-model"] }],
    sessions: [{ id: SESSION, name: "kill test", model: "kill-model", redundancy: 1 }],
  });
});

afterAll(async () => {
  await runtime?.stop();
  await miner?.close();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

describe("the runtime killed mid-task", () => {
  it("keeps the answered task, dispatches the cut one never again, and its alarm ends it as a timeout", async () => {
    const first = runtime!;
    // Task 0 is answered before the kill.
    const answering = complete(first.origin, { prompt: "answered before the kill", request_id: "kill-answered" });
    await until(async () => (await hits()) === 1);
    await minerApi("/dev/release", "POST");
    const answered = await answering;
    expect(answered.status).toBe(200);
    const answer = await answered.json();

    // Task 1 is on the miner when workerd dies.
    const cut = complete(first.origin, { prompt: "cut by the kill", request_id: "kill-cut" }).catch((err: unknown) => err);
    await until(async () => (await hits()) === 2);
    const workerd = workerdBelow(first.pid);
    expect(workerd.length).toBeGreaterThan(0);
    for (const pid of workerd) process.kill(pid, "SIGKILL");
    const gone = await cut;
    expect(gone instanceof Response ? gone.status : 0).not.toBe(200);
    await first.stop();
    runtime = undefined;

    runtime = await start();
    const origin = runtime.origin;

    // The answered task survived: replayed, not run again.
    const replay = await complete(origin, { prompt: "answered before the kill", request_id: "kill-answered" });
    expect(replay.status).toBe(200);
    expect(replay.headers.get("x-idempotent-replay")).toBe("true");
    expect(await replay.json()).toEqual(answer);

    // The cut task's record and assignment were durable before its miner was called.
    const orphan = await getTask(origin, 1);
    expect(orphan.assignments).toEqual([expect.objectContaining({ miner: "held-miner" })]);
    if (orphan.status !== "timed_out") {
      expect(orphan.status).toBe("assigned");
      const early = await complete(origin, { prompt: "cut by the kill", request_id: "kill-cut" });
      expect(early.status).toBe(409);
      expect(await early.json()).toMatchObject({ error: { code: "task_in_progress" } });
    }

    // Its alarm, kept on disk, ends it at its deadline (5 s after it was taken).
    const ended = await until(async () => {
      const task = await getTask(origin, 1);
      return task.status === "timed_out" && task;
    });
    expect(ended.error).toMatchObject({ code: "timeout" });
    expect(ended.assignments).toEqual([expect.objectContaining({ status: "timed_out" })]);
    const retried = await complete(origin, { prompt: "cut by the kill", request_id: "kill-cut" });
    expect(retried.status).toBe(504);
    expect(retried.headers.get("x-idempotent-replay")).toBe("true");

    expect(await hits()).toBe(2);
  });
});
