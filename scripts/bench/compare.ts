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
 * R2 is served by a second workerd for each router and the floor (runtimes.ts,
 * as on Cloudflare R2 is another service): the CPU a task is the target's own
 * workerd's; the R2 service's is printed apart and not counted.
 *
 * Env: BENCH_A (a built bundle's folder, dist), BENCH_B (another's; without it, BENCH_A
 * alone: build a tree with `npm run build` and copy its dist/ into this repository, e.g. to
 * .bench/dist-before: workerd refuses a bundle outside it), BENCH_COMPARE_SCENARIO
 * (v1 | v3 | v1+v3; v1: /api/v1/completions at redundancy 1, v3: the gateway's path with its
 * R2 writes, v1+v3: both on each build, the floor's /task and /task-r2 beside them),
 * BENCH_COMPARE_ROUNDS (4), BENCH_COMPARE_REQUESTS (sequential, 300),
 * BENCH_COMPARE_SECONDS (loaded, 5), BENCH_PORT (5410; uses the next two too).
 */
import { existsSync, rmSync } from "node:fs";
import { relative, resolve } from "node:path";
import { startDevMiner } from "../../tools/dev-miner/server.ts";
import { prompt, provisionOneSession, viaFloor, viaRouter } from "./clients.ts";
import { load, loadFor, median, round, type Send, stats, warmUntilSteady } from "./load.ts";
import { table } from "./report.ts";
import { cpuMeter, cpuScope, type Runtime, startFloor, startMiniflare } from "./runtimes.ts";

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const A = resolve(process.env["BENCH_A"] ?? "dist");
const B = process.env["BENCH_B"] ? resolve(process.env["BENCH_B"]) : undefined;
const SCENARIO = process.env["BENCH_COMPARE_SCENARIO"] ?? "v1";
const VERSIONS = SCENARIO === "v1+v3" ? (["v1", "v3"] as const) : SCENARIO === "v3" ? (["v3"] as const) : (["v1"] as const);
const ROUNDS = env("BENCH_COMPARE_ROUNDS", 4);
const REQUESTS = env("BENCH_COMPARE_REQUESTS", 300);
const SECONDS = env("BENCH_COMPARE_SECONDS", 5);
const PORT = env("BENCH_PORT", 5410);
const CONNECTIONS = 16;

const BUILDS = B ? [A, B] : [A];
for (const dir of BUILDS) {
  if (!existsSync(`${dir}/index.js`)) throw new Error(`no built bundle at ${dir}/index.js`);
  if (relative(process.cwd(), dir).startsWith("..")) throw new Error(`${dir} is outside this repository: copy it under .bench/ (workerd refuses a bundle outside it)`);
}
if (SCENARIO !== "v1" && SCENARIO !== "v3" && SCENARIO !== "v1+v3") throw new Error("BENCH_COMPARE_SCENARIO must be v1, v3 or v1+v3");

type Target = { name: string; runtime: Runtime; send: Send };
type Figures = { p50: number; addedP50: number; rps: number; cpuMs: number; r2CpuMs?: number; failures: number };

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
  for (const [k, dist] of BUILDS.entries()) {
    const name = k === 0 ? "A" : "B";
    const state = `.bench/state-compare-${name}`;
    rmSync(state, { recursive: true, force: true });
    // Relative to here: workerd names the bundle's modules by the path it is given.
    const runtime = await startMiniflare({ port: PORT + k, persistTo: state, vars: { ENVIRONMENT: "development" }, dist: relative(process.cwd(), dist), r2: "separate" });
    stops.push(runtime.stop);
    await provisionOneSession(runtime.origin, miner.url, "compare (redundancy 1)");
    for (const version of VERSIONS) {
      routers.push({ name: `${name}${VERSIONS.length > 1 ? ` ${version}` : ""}: ${dist}`, runtime, send: viaRouter(runtime.origin, () => 0, false, version) });
    }
  }
  const floor = await startFloor({ port: PORT + 2, persistTo: ".bench/state-compare-floor", minerUrl: miner.url });
  stops.push(floor.stop);
  const floors: Target[] = VERSIONS.map((version) =>
    version === "v3"
      ? { name: "floor /task-r2: Worker → DO → miner + 1 row + 2 R2 puts", runtime: floor, send: viaFloor(floor.origin, "/task-r2") }
      : { name: "floor /task: Worker → DO → miner + 1 row", runtime: floor, send: viaFloor(floor.origin, "/task") },
  );
  const targets: Target[] = [...routers, ...floors];

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
      const cpu = cpuMeter(t.runtime);
      const seq = await load(t.send, REQUESTS, 1);
      const loaded = await loadFor(t.send, SECONDS, CONNECTIONS);
      const tasks = seq.latencies.length + seq.failures + loaded.latencies.length + loaded.failures;
      const used = cpu();
      const s = stats(seq);
      const figures: Figures = {
        p50: s.p50,
        addedP50: round(s.p50 - minerP50),
        rps: stats(loaded).rps,
        cpuMs: round(used.worker / Math.max(1, tasks)),
        ...(used.r2 !== undefined ? { r2CpuMs: round(used.r2 / Math.max(1, tasks)) } : {}),
        failures: seq.failures + loaded.failures,
      };
      rounds.get(t.name)?.push(figures);
      console.error(
        `round ${r + 1}, ${t.name}: added p50 ${figures.addedP50} ms, ${figures.rps} req/s, ${figures.cpuMs} ms CPU a task (R2 service ${figures.r2CpuMs ?? "–"} ms, not counted)${figures.failures ? `, ${figures.failures} FAILED: ${seq.firstFailure ?? loaded.firstFailure}` : ""}`,
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
      r2Cpu: fs.some((f) => f.r2CpuMs !== undefined) ? median(fs.map((f) => f.r2CpuMs ?? 0)) : undefined,
      each: fs,
    };
  });
  console.log(
    `\n${SCENARIO} at redundancy 1: ${ROUNDS} rounds, each ${REQUESTS} sequential requests and ${SECONDS} s over ${CONNECTIONS} connections a target; medians of the rounds; ` +
      `CPU a task: ${[...new Set(targets.map((t) => t.runtime))].map((r) => (r === floor ? `the floor's, ${cpuScope(r)}` : `${r.origin}'s, ${cpuScope(r)}`)).join("; ")}\n`,
  );
  console.log(
    table(
      ["target", "added p50 ms", "rounds", "req/s @16", "rounds", "CPU ms/task", "rounds", "R2 service CPU ms/task (not counted)"],
      rows.map((row) => [
        row.name,
        row.addedP50,
        row.each.map((f) => f.addedP50).join(" / "),
        row.rps,
        row.each.map((f) => f.rps).join(" / "),
        row.cpu,
        row.each.map((f) => f.cpuMs).join(" / "),
        row.r2Cpu,
      ]),
    ),
  );
  const [a, b, fl] = rows;
  if (VERSIONS.length === 1 && B && a && b && fl) {
    console.log(
      `\nB − A: added p50 ${round(b.addedP50 - a.addedP50)} ms, req/s ${round(b.rps - a.rps)}, CPU a task ${round(b.cpu - a.cpu)} ms; ` +
        `B's req/s is ${round(b.rps / fl.rps)} × the floor's, A's ${round(a.rps / fl.rps)} ×`,
    );
  }
  if (VERSIONS.length === 2) {
    // Rows come as each build's v1 then v3, then the floor's /task then /task-r2.
    const pairs = [...BUILDS.map((_, k) => [rows[2 * k], rows[2 * k + 1]] as const), [rows[rows.length - 2], rows[rows.length - 1]] as const];
    for (const [v1, v3] of pairs) {
      if (v1 && v3)
        console.log(
          `\n${v3.name} − ${v1.name}: CPU a task ${round(v3.cpu - v1.cpu)} ms (medians; each round: ${v3.each.map((f, i) => round(f.cpuMs - (v1.each[i]?.cpuMs ?? Number.NaN))).join(" / ")}), added p50 ${round(v3.addedP50 - v1.addedP50)} ms`,
        );
    }
  }
  const failed = rows.reduce((n, row) => n + row.each.reduce((m, f) => m + f.failures, 0), 0);
  console.log(`\n${JSON.stringify({ scenario: SCENARIO, rounds: ROUNDS, failed, targets: rows })}`);
  if (failed > 0) process.exitCode = 1;
} finally {
  for (const stop of stops.reverse()) await stop().catch((err: unknown) => console.error(err));
}
