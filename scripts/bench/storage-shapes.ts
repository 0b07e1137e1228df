/**
 * `node scripts/bench/storage-shapes.ts`: what a task's storage costs on
 * workerd, apart from everything else the router does. One Durable Object
 * with the Session object's schema (SESSION_MIGRATIONS) runs, per request, a
 * miner call (a zero-latency dev miner) and one of these storage shapes, with
 * the statements a redundancy-1 task runs, as `test/storage-turns.test.ts`
 * prints them:
 *  - none: no storage at all (the call and the RPC only);
 *  - one row after: the floor Worker's task (one INSERT, one commit);
 *  - written ahead, 7: the shape of the evening of 2026-12-07 (3 statements
 *    committed before the miner call, 4 after: two commits);
 *  - 7 in one turn: the same statements all after the call (one commit);
 *  - written ahead, 5 (no history): the same without the `task_events` lines;
 *  - 3 in one turn (no history): task, assignment and receipt inserted once,
 *    with their final values, after the call;
 *  - 2 in one turn (receipt in the row): the same, the receipt a column of the
 *    task's row (Session migration 19);
 *  - 2 in one turn (router's sizes): the same with the values a bench task
 *    stores today (a caller's owner-only key as its request id, random; a
 *    693-character result, a 279-character history, an 834-character receipt).
 * Loaded over 16 connections, the shapes' order rotated each round; workerd's
 * CPU a task from /proc (user and system), req/s. No router code runs here,
 * so a shape's figures are the least a router with that storage can cost.
 *
 * Env: STORAGE_SHAPES_TASKS (a shape a round, 3000), STORAGE_SHAPES_ROUNDS (3), BENCH_PORT (5950),
 * STORAGE_SHAPES_ONLY (shape names, comma-separated: only those).
 */
import { rmSync } from "node:fs";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { SESSION_MIGRATIONS } from "../../durable-objects/session/schema.ts";
import { startDevMiner } from "../../tools/dev-miner/server.ts";
import { cpuSplitMs, workerdBelow } from "./cpu.ts";
import { median } from "./load.ts";
import { table } from "./report.ts";

const TASKS = Number(process.env["STORAGE_SHAPES_TASKS"] ?? 3000);
const ROUNDS = Number(process.env["STORAGE_SHAPES_ROUNDS"] ?? 3);
const PORT = Number(process.env["BENCH_PORT"] ?? 5950);
const CONNECTIONS = 16;
const SHAPES = (process.env["STORAGE_SHAPES_ONLY"]?.split(",") ?? [
  "none",
  "one row after",
  "written ahead, 7",
  "7 in one turn",
  "written ahead, 5 (no history)",
  "3 in one turn (no history)",
  "2 in one turn (receipt in the row)",
  "2 in one turn (router's sizes)",
]) as readonly string[];

// The statements as the Session object runs them (values of the same sizes and kinds).
const script = `
import { DurableObject } from "cloudflare:workers";
const MIGRATIONS = ${JSON.stringify(SESSION_MIGRATIONS)};
const EVENTS3 = "INSERT INTO task_events (task_id, slot, state, at) VALUES (?, ?, ?, ?), (?, ?, ?, ?), (?, ?, ?, ?)";
const EVENTS6 = "INSERT INTO task_events (task_id, slot, state, at) VALUES (?, ?, ?, ?), (?, ?, ?, ?), (?, ?, ?, ?), (?, ?, ?, ?), (?, ?, ?, ?), (?, ?, ?, ?)";
export class Shapes extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    // Once: an object woken again (evicted while idle) keeps its tables.
    if (sql.exec("SELECT count(*) AS n FROM sqlite_master WHERE name = 'floor'").one().n === 0) {
      for (const m of MIGRATIONS) sql.exec(m);
      sql.exec("CREATE TABLE floor (id INTEGER PRIMARY KEY, output TEXT NOT NULL)");
    }
    this.next = sql.exec("SELECT coalesce(max(task_id), 0) + 1 AS n FROM tasks").one().n;
  }
  async run(shape, minerUrl, prompt) {
    const sql = this.ctx.storage.sql;
    const id = this.next++;
    const now = Date.now();
    const request = JSON.stringify({ prompt, max_tokens: 32 });
    const call = async () => (await fetch(minerUrl + "/v1/completions", { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer t0" }, body: JSON.stringify({ model: "bench", prompt, max_tokens: 32 }) })).text();
    const record = (old) => {
      sql.exec("INSERT INTO tasks (task_id, request_id, request_hash, status, kind, request, redundancy, created_at, updated_at, precommit_deadline_at, deadline_at, payload_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", id, null, "h".repeat(64), old ? "queued" : "assigned", "completion", request, 1, now, now, now + 30000, now + 60000, null);
      sql.exec("INSERT INTO assignments (task_id, slot, miner_id, status, assigned_at, probation) VALUES (?, ?, ?, 'assigned', ?, ?)", id, 0, "bench-zero", now, 0);
      if (old) sql.exec("UPDATE tasks SET status = ?, updated_at = ? WHERE task_id = ?", "assigned", now, id);
      sql.exec(EVENTS3, id, null, "queued", now, id, 0, "assigned", now, id, null, "assigned", now);
    };
    const outcome = (old, text) => {
      if (old) sql.exec("UPDATE assignments SET status = ?, acked_at = COALESCE(?, acked_at), precommitted_at = COALESCE(?, precommitted_at), ended_at = COALESCE(?, ended_at), latency_ms = COALESCE(?, latency_ms), precommit_hash = COALESCE(?, precommit_hash), output = COALESCE(?, output), usage = COALESCE(?, usage), usage_misreport = COALESCE(?, usage_misreport), agreed = COALESCE(?, agreed), similarity = COALESCE(?, similarity), late = COALESCE(?, late) WHERE task_id = ? AND slot = ?", "ended", now, now, now, 1, "p".repeat(64), text, '{"prompt_tokens":5,"completion_tokens":8}', null, 1, 1, 0, id, 0);
      else sql.exec("UPDATE assignments SET status = COALESCE(?, status), acked_at = COALESCE(?, acked_at), precommitted_at = COALESCE(?, precommitted_at), ended_at = COALESCE(?, ended_at), latency_ms = COALESCE(?, latency_ms), precommit_hash = COALESCE(?, precommit_hash), output = COALESCE(?, output), usage = COALESCE(?, usage), usage_misreport = COALESCE(?, usage_misreport), agreed = COALESCE(?, agreed), similarity = COALESCE(?, similarity), late = COALESCE(?, late), report = COALESCE(?, report), report_seq = COALESCE(?, report_seq), report_at = COALESCE(?, report_at) WHERE task_id = ? AND slot = ?", "ended", now, now, now, 1, "p".repeat(64), text, '{"prompt_tokens":5,"completion_tokens":8}', null, 1, 1, 0, "ok", id, now, id, 0);
      sql.exec("UPDATE tasks SET status = ?, updated_at = ?, result = ?, result_text_slot = ?, result_urn = COALESCE(?, result_urn), reward_micros = ? WHERE task_id = ?", "ended", now, '{"id":"cmpl","object":"text_completion","model":"bench-zero","choices":[{"index":0,"text":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":8,"total_tokens":13}}', 0, null, 10, id);
      sql.exec(EVENTS6, id, 0, "acked", now, id, 0, "precommitted", now, id, null, "precommitted", now, id, 0, "committed", now, id, null, "committed", now, id, null, "ended", now);
      if (old) sql.exec("INSERT INTO pending_reports (miner_id, outcome, latency_ms, created_at) VALUES (?, ?, ?, ?)", "bench-zero", "ok", 1, now);
      sql.exec("INSERT OR IGNORE INTO receipts (task_id, body, outputs_in_assignments) VALUES (?, ?, ?)", id, JSON.stringify({ version: 2, task_id: id, request_hash: "h".repeat(64), miners: [{ slot: 0, miner_id: "bench-zero", output: null, output_hash: "p".repeat(64), signature: null, answered_at: new Date(now).toISOString() }], issued_at: new Date(now).toISOString() }), 1);
    };
    if (shape === "none") return call();
    if (shape === "one row after") {
      const text = await call();
      sql.exec("INSERT INTO floor (output) VALUES (?)", text);
      return text;
    }
    if (shape === "written ahead, 5 (no history)") {
      sql.exec("INSERT INTO tasks (task_id, request_id, request_hash, status, kind, request, redundancy, created_at, updated_at, precommit_deadline_at, deadline_at, payload_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", id, null, "h".repeat(64), "assigned", "completion", request, 1, now, now, now + 30000, now + 60000, null);
      sql.exec("INSERT INTO assignments (task_id, slot, miner_id, status, assigned_at, probation) VALUES (?, ?, ?, 'assigned', ?, ?)", id, 0, "bench-zero", now, 0);
      const text = await call();
      sql.exec("UPDATE assignments SET status = COALESCE(?, status), acked_at = COALESCE(?, acked_at), precommitted_at = COALESCE(?, precommitted_at), ended_at = COALESCE(?, ended_at), latency_ms = COALESCE(?, latency_ms), precommit_hash = COALESCE(?, precommit_hash), output = COALESCE(?, output), usage = COALESCE(?, usage), usage_misreport = COALESCE(?, usage_misreport), agreed = COALESCE(?, agreed), similarity = COALESCE(?, similarity), late = COALESCE(?, late), report = COALESCE(?, report), report_seq = COALESCE(?, report_seq), report_at = COALESCE(?, report_at) WHERE task_id = ? AND slot = ?", "ended", now, now, now, 1, "p".repeat(64), text, '{"prompt_tokens":5,"completion_tokens":8}', null, 1, 1, 0, "ok", id, now, id, 0);
      sql.exec("UPDATE tasks SET status = ?, updated_at = ?, result = ?, result_text_slot = ?, result_urn = COALESCE(?, result_urn), reward_micros = ? WHERE task_id = ?", "ended", now, '{"id":"cmpl","object":"text_completion","model":"bench-zero","choices":[{"index":0,"text":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":8,"total_tokens":13}}', 0, null, 10, id);
      sql.exec("INSERT OR IGNORE INTO receipts (task_id, body, outputs_in_assignments) VALUES (?, ?, ?)", id, JSON.stringify({ version: 2, task_id: id, request_hash: "h".repeat(64), miners: [{ slot: 0, miner_id: "bench-zero", output: null, output_hash: "p".repeat(64), signature: null, answered_at: new Date(now).toISOString() }], issued_at: new Date(now).toISOString() }), 1);
      return text;
    }
    if (shape === "3 in one turn (no history)") {
      const text = await call();
      sql.exec("INSERT INTO tasks (task_id, request_id, request_hash, status, kind, request, redundancy, created_at, updated_at, precommit_deadline_at, deadline_at, payload_version, result, result_text_slot, reward_micros) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", id, null, "h".repeat(64), "ended", "completion", request, 1, now, now, now + 30000, now + 60000, null, '{"id":"cmpl","object":"text_completion","model":"bench-zero","choices":[{"index":0,"text":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":8,"total_tokens":13}}', 0, 10);
      sql.exec("INSERT INTO assignments (task_id, slot, miner_id, status, assigned_at, probation, acked_at, precommitted_at, ended_at, latency_ms, precommit_hash, output, usage, agreed, similarity, late, report, report_seq, report_at) VALUES (?, ?, ?, 'ended', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", id, 0, "bench-zero", now, 0, now, now, now, 1, "p".repeat(64), text, '{"prompt_tokens":5,"completion_tokens":8}', 1, 1, 0, "ok", id, now);
      sql.exec("INSERT OR IGNORE INTO receipts (task_id, body, outputs_in_assignments) VALUES (?, ?, ?)", id, JSON.stringify({ version: 2, task_id: id, request_hash: "h".repeat(64), miners: [{ slot: 0, miner_id: "bench-zero", output: null, output_hash: "p".repeat(64), signature: null, answered_at: new Date(now).toISOString() }], issued_at: new Date(now).toISOString() }), 1);
      return text;
    }
    if (shape === "2 in one turn (receipt in the row)") {
      const text = await call();
      sql.exec("INSERT INTO tasks (task_id, request_id, request_hash, status, kind, request, redundancy, created_at, updated_at, precommit_deadline_at, deadline_at, payload_version, result, result_text_slot, reward_micros, receipt, receipt_outputs_in_assignments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", id, null, "h".repeat(64), "ended", "completion", request, 1, now, now, now + 30000, now + 60000, null, '{"id":"cmpl","object":"text_completion","model":"bench-zero","choices":[{"index":0,"text":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":8,"total_tokens":13}}', 0, 10, JSON.stringify({ version: 2, task_id: id, request_hash: "h".repeat(64), miners: [{ slot: 0, miner_id: "bench-zero", output: null, output_hash: "p".repeat(64), signature: null, answered_at: new Date(now).toISOString() }], issued_at: new Date(now).toISOString() }), 1);
      sql.exec("INSERT INTO assignments (task_id, slot, miner_id, status, assigned_at, probation, acked_at, precommitted_at, ended_at, latency_ms, precommit_hash, output, usage, agreed, similarity, late, report, report_seq, report_at) VALUES (?, ?, ?, 'ended', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", id, 0, "bench-zero", now, 0, now, now, now, 1, "p".repeat(64), text, '{"prompt_tokens":5,"completion_tokens":8}', 1, 1, 0, "ok", id, now);
      return text;
    }
    if (shape === "2 in one turn (router's sizes)") {
      const text = await call();
      sql.exec("INSERT INTO tasks (task_id, request_id, request_hash, status, kind, request, redundancy, created_at, updated_at, precommit_deadline_at, deadline_at, payload_version, result, result_text_slot, reward_micros, history, receipt, receipt_outputs_in_assignments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", id, "key:339265db380e861c06c3315521a4d7aa:#" + crypto.randomUUID(), "h".repeat(64), "ended", "completion", request, 1, now, now, now + 30000, now + 60000, null, "r".repeat(693), 0, null, "y".repeat(279), "c".repeat(834), 1);
      sql.exec("INSERT INTO assignments (task_id, slot, miner_id, status, assigned_at, probation, acked_at, precommitted_at, ended_at, latency_ms, precommit_hash, output, usage, agreed, similarity, late, report, report_seq, report_at) VALUES (?, ?, ?, 'ended', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", id, 0, "bench-zero", now, 0, now, now, now, 1, "p".repeat(64), text, '{"prompt_tokens":5,"completion_tokens":8}', 1, 1, 0, "ok", id, now);
      return text;
    }
    if (shape === "7 in one turn") {
      const text = await call();
      record(false);
      outcome(false, text);
      return text;
    }
    const old = shape === "written ahead, 9";
    record(old);
    const text = await call();
    outcome(old, text);
    return text;
  }
}
export default {
  async fetch(request, env) {
    const shape = new URL(request.url).searchParams.get("shape");
    const stub = env.SHAPES.get(env.SHAPES.idFromName("shapes"));
    return new Response(await stub.run(shape, env.MINER_URL, await request.text()));
  },
};
`;

const miner = await startDevMiner({ name: "shapes-zero", token: "t0", models: ["bench"] });
const persist = ".bench/state-storage-shapes";
rmSync(persist, { recursive: true, force: true });
const mf = new Miniflare(
  convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: PORT,
    modules: true,
    script,
    compatibilityDate: "2026-11-01",
    bindings: { MINER_URL: miner.url },
    durableObjects: { SHAPES: { className: "Shapes", useSQLite: true } },
    resourcePersistencePath: persist,
  }),
);
try {
  const url = await mf.ready;
  const pids = workerdBelow(process.pid);
  const send = (shape: string, i: number) =>
    fetch(`${url.origin}/?shape=${encodeURIComponent(shape)}`, { method: "POST", body: `Benchmark prompt ${i % 50}` }).then((r) => r.text());
  const figures = new Map<string, { cpu: number; system: number; rps: number }[]>(SHAPES.map((s) => [s, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < SHAPES.length; k++) {
      const shape = SHAPES[(k + round) % SHAPES.length] as string;
      for (let i = 0; i < 300; i++) await send(shape, i);
      const before = cpuSplitMs(pids);
      const started = performance.now();
      let sent = 0;
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          while (sent < TASKS) await send(shape, sent++);
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const after = cpuSplitMs(pids);
      figures.get(shape)?.push({
        cpu: (after.total - before.total) / TASKS,
        system: (after.system - before.system) / TASKS,
        rps: TASKS / seconds,
      });
    }
  }
  const f2 = (x: number) => x.toFixed(2);
  console.log(`\nstorage shapes of a redundancy-1 task, ${TASKS} tasks a shape a round over ${CONNECTIONS} connections, ${ROUNDS} rounds (medians; each round)\n`);
  console.log(
    table(
      ["shape", "CPU ms/task", "rounds", "of it system", "req/s", "rounds"],
      SHAPES.map((shape) => {
        const fs = figures.get(shape) ?? [];
        return [
          shape,
          f2(median(fs.map((x) => x.cpu))),
          fs.map((x) => f2(x.cpu)).join(" / "),
          f2(median(fs.map((x) => x.system))),
          Math.round(median(fs.map((x) => x.rps))),
          fs.map((x) => Math.round(x.rps)).join(" / "),
        ];
      }),
    ),
  );
} finally {
  await mf.dispose();
  await miner.close();
}
