/**
 * `npm run bench:compare`: two builds of the router side by side, with the
 * floor Worker as the yardstick, to tell whether a change moved a task's cost.
 *
 * One workerd a target (build A, build B, the floor Worker), one zero-latency
 * dev miner, each target warmed until two windows agree; then rounds, the
 * targets' order rotated each round, each target measured sequentially
 * (the added p50 over the miner's own) and loaded over 16 connections for a
 * stretch of time (req/s), with workerd's CPU a task from /proc over both.
 * Rounds alternate the builds so that whatever else the machine does falls on
 * both; the figures are the rounds' medians, and each round's are printed,
 * since one round proves nothing on a shared machine.
 *
 * Env: BENCH_A (a built bundle's folder, dist), BENCH_B (another's, required:
 * build a tree with `npm run build` and copy its dist/ into this repository, e.g. to
 * .bench/dist-before: workerd refuses a bundle outside it), BENCH_COMPARE_SCENARIO
 * (v1 | v3; v1: /api/v1/completions at redundancy 1, v3: the gateway's path with its
 * R2 writes), BENCH_COMPARE_ROUNDS (4), BENCH_COMPARE_REQUESTS (sequential, 300),
 * BENCH_COMPARE_SECONDS (loaded, 5), BENCH_PORT (5410; uses the next two too).
 */
import { existsSync, rmSync } from "node:fs";
import { relative, resolve } from "node:path";
import { DEV_ADMIN_TOKEN } from "../../domain/config/dev-credentials.ts";
import { startDevMiner } from "../../tools/dev-miner/server.ts";
import { provision } from "../provision.ts";
import { prompt, viaRouter } from "./clients.ts";
import { cpuMs, workerdBelow } from "./cpu.ts";
import { load, loadFor, median, round, type Send, stats, warmUntilSteady } from "./load.ts";
import { table } from "./report.ts";
import { type Runtime, startMiniflare } from "./runtimes.ts";

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const A = resolve(process.env["BENCH_A"] ?? "dist");
const B = process.env["BENCH_B"] ? resolve(process.env["BENCH_B"]) : undefined;
const SCENARIO = process.env["BENCH_COMPARE_SCENARIO"] ?? "v1";
const ROUNDS = env("BENCH_COMPARE_ROUNDS", 4);
const REQUESTS = env("BENCH_COMPARE_REQUESTS", 300);
const SECONDS = env("BENCH_COMPARE_SECONDS", 5);
const PORT = env("BENCH_PORT", 5410);
const CONNECTIONS = 16;

if (!B) throw new Error("BENCH_B must name another build's folder (a copy of its dist/)");
for (const dir of [A, B]) {
  if (!existsSync(`${dir}/index.js`)) throw new Error(`no built bundle at ${dir}/index.js`);
  if (relative(process.cwd(), dir).startsWith("..")) throw new Error(`${dir} is outside this repository: copy it under .bench/ (workerd refuses a bundle outside it)`);
}
if (SCENARIO !== "v1" && SCENARIO !== "v3") throw new Error("BENCH_COMPARE_SCENARIO must be v1 or v3");

type Target = { name: string; runtime: Runtime; send: Send };
type Figures = { p50: number; addedP50: number; rps: number; cpuMs: number; failures: number };

const stops: (() => Promise<void>)[] = [];
try {
  const miner = await startDevMiner({ name: "compare-zero", token: "t0", models: ["bench", "bench-zero"] });
  stops.push(miner.close);
  const direct: Send = (i, signal) =>
    fetch(`${miner.url}/v1/completions`, {
      method: "POST",
      signal,
      headers: { "content-type": "application/json", authorization: "Bearer t0" },
      body: JSON.stringify({ model: "bench", prompt: prompt(i), max_tokens: 32 }),
    });

  const routers: Target[] = [];
  for (const [name, dist, port] of [
    ["A", A, PORT],
    ["B", B, PORT + 1],
  ] as const) {
    const state = `.bench/state-compare-${name}`;
    rmSync(state, { recursive: true, force: true });
    // Relative to here: workerd names the bundle's modules by the path it is given.
    const runtime = await startMiniflare({ port, persistTo: state, vars: { ENVIRONMENT: "development" }, dist: relative(process.cwd(), dist) });
    stops.push(runtime.stop);
    await provision({
      origin: runtime.origin,
      adminKey: DEV_ADMIN_TOKEN,
      miners: [{ id: "bench-zero", url: miner.url, credential: "t0", models: ["bench-zero"], max_concurrency: 256 }],
      sessions: [{ id: 0, name: "compare (redundancy 1)", model: "bench-zero", redundancy: 1 }],
    });
    routers.push({ name: `${name}: ${dist}`, runtime, send: viaRouter(runtime.origin, () => 0, false, SCENARIO) });
  }
  rmSync(".bench/state-compare-floor", { recursive: true, force: true });
  const floor = await startMiniflare({ port: PORT + 2, persistTo: ".bench/state-compare-floor", vars: { MINER_URL: miner.url, MINER_TOKEN: "t0" }, worker: "floor" });
  stops.push(floor.stop);
  // v3's yardstick is the floor's task with the same two R2 puts (the local R2 simulator runs in the measured workerd).
  const floorPath = SCENARIO === "v3" ? "/task-r2" : "/task";
  const floorSend: Send = (i, signal) =>
    fetch(`${floor.origin}${floorPath}`, {
      method: "POST",
      signal,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "bench", prompt: prompt(i), max_tokens: 32 }),
    });
  const targets: Target[] = [...routers, { name: `floor ${floorPath}: Worker → DO → miner + 1 row${SCENARIO === "v3" ? " + 2 R2 puts" : ""}`, runtime: floor, send: floorSend }];

  for (const t of targets) {
    const warmed = await warmUntilSteady(t.send, { connections: CONNECTIONS, windowSeconds: 1, tolerance: 0.05, maxSeconds: 15 });
    console.error(
      `warmed ${t.name}: ${warmed.seconds} s, windows ${warmed.windows.join(" / ")} req/s${warmed.failures ? `, ${warmed.failures} FAILED: ${warmed.firstFailure}` : ""}`,
    );
  }

  const rounds = new Map<string, Figures[]>(targets.map((t) => [t.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const minerP50 = stats(await load(direct, REQUESTS, 1)).p50;
    const order = targets.map((_, i) => targets[(i + r) % targets.length] as Target);
    for (const t of order) {
      const pids = workerdBelow(t.runtime.pid);
      const before = cpuMs(pids);
      const seq = await load(t.send, REQUESTS, 1);
      const loaded = await loadFor(t.send, SECONDS, CONNECTIONS);
      const tasks = seq.latencies.length + seq.failures + loaded.latencies.length + loaded.failures;
      const s = stats(seq);
      const figures: Figures = {
        p50: s.p50,
        addedP50: round(s.p50 - minerP50),
        rps: stats(loaded).rps,
        cpuMs: round((cpuMs(pids) - before) / Math.max(1, tasks)),
        failures: seq.failures + loaded.failures,
      };
      rounds.get(t.name)?.push(figures);
      console.error(
        `round ${r + 1}, ${t.name}: added p50 ${figures.addedP50} ms, ${figures.rps} req/s, ${figures.cpuMs} ms CPU a task${figures.failures ? `, ${figures.failures} FAILED: ${seq.firstFailure ?? loaded.firstFailure}` : ""}`,
      );
    }
  }

  const rows = targets.map((t) => {
    const fs = rounds.get(t.name) ?? [];
    return {
      name: t.name,
      addedP50: median(fs.map((f) => f.addedP50)),
      rps: median(fs.map((f) => f.rps)),
      cpu: median(fs.map((f) => f.cpuMs)),
      each: fs,
    };
  });
  console.log(
    `\n${SCENARIO} at redundancy 1: ${ROUNDS} rounds, each ${REQUESTS} sequential requests and ${SECONDS} s over ${CONNECTIONS} connections a target; medians of the rounds\n`,
  );
  console.log(
    table(
      ["target", "added p50 ms", "rounds", "req/s @16", "rounds", "CPU ms/task", "rounds"],
      rows.map((row) => [
        row.name,
        row.addedP50,
        row.each.map((f) => f.addedP50).join(" / "),
        row.rps,
        row.each.map((f) => f.rps).join(" / "),
        row.cpu,
        row.each.map((f) => f.cpuMs).join(" / "),
      ]),
    ),
  );
  const [a, b, fl] = rows;
  if (a && b && fl) {
    console.log(
      `\nB − A: added p50 ${round(b.addedP50 - a.addedP50)} ms, req/s ${round(b.rps - a.rps)}, CPU a task ${round(b.cpu - a.cpu)} ms; ` +
        `B's req/s is ${round(b.rps / fl.rps)} × the floor's, A's ${round(a.rps / fl.rps)} ×`,
    );
  }
  const failed = rows.reduce((n, row) => n + row.each.reduce((m, f) => m + f.failures, 0), 0);
  console.log(`\n${JSON.stringify({ scenario: SCENARIO, rounds: ROUNDS, failed, targets: rows })}`);
  if (failed > 0) process.exitCode = 1;
} finally {
  for (const stop of stops.reverse()) await stop().catch((err: unknown) => console.error(err));
}
