/**
 * `npm run bench:profile`: where a task's CPU time goes inside the router.
 *
 * Runs the built bundle (dist/) on workerd through Miniflare with its V8
 * inspector on loopback, warms the path, then takes a sampling CPU profile
 * (Chrome DevTools Protocol: Profiler.start/stop) over N requests of one
 * scenario, maps every sample back to the TypeScript source through
 * dist/index.js.map, and prints the CPU time per request by part of the path
 * (Worker routing and validation, the Session object, SQLite, hashing,
 * consensus, the miner call, ...) and the functions that cost most. The raw
 * profile is written to .bench/profile-<scenario>.cpuprofile: open it in
 * Chrome DevTools (Performance, or the JavaScript Profiler) for the flame chart.
 *
 * Env: PROFILE_SCENARIO (router | router-v3 | gateway | ping | floor; router; router-v3 is the v3 flow on
 * session 0, the router path the gateway's local pool calls; floor is the bench's floor Worker's
 * `/task`, scripts/bench/floor/, to read the router's profile against), PROFILE_REQUESTS (1000),
 * PROFILE_CONNECTIONS (1), PROFILE_INTERVAL_US (sampling interval, 100),
 * BENCH_PORT (5110; the inspector listens on BENCH_PORT + 9), BENCH_SKIP_BUILD=1.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { startDevMiner } from "../../tools/dev-miner/server.ts";
import { DEV_ADMIN_TOKEN, DEV_ROUTER_TOKEN } from "../../domain/config/dev-credentials.ts";
import { provision } from "../provision.ts";
import { issueBenchKey } from "./clients.ts";
import { load, type Send, warm } from "./load.ts";
import { table } from "./report.ts";
import { build, cpuMeter, cpuScope, startMiniflare } from "./runtimes.ts";
import { categoryOf, type CpuProfile, type Frame, summarise } from "./profile-summary.ts";

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SCENARIO = process.env["PROFILE_SCENARIO"] ?? "router";
const REQUESTS = env("PROFILE_REQUESTS", 1000);
const CONNECTIONS = env("PROFILE_CONNECTIONS", 1);
const INTERVAL_US = env("PROFILE_INTERVAL_US", 100);
const PORT = env("BENCH_PORT", 5110);
const INSPECTOR_PORT = PORT + 9;
const json = { "content-type": "application/json" };

/** A minimal CDP client: one WebSocket, request ids, answers matched by id. */
async function connect(url: string) {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error(`cannot reach the inspector at ${url}`)), { once: true });
  });
  let next = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (message.id === undefined) return;
    const w = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error) w?.reject(new Error(message.error.message));
    else w?.resolve(message.result);
  });
  return {
    send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
      const id = next++;
      socket.send(JSON.stringify({ id, method, params }));
      return new Promise<T>((resolve, reject) => waiting.set(id, { resolve: resolve as (v: unknown) => void, reject }));
    },
    close: () => socket.close(),
  };
}

/** The user Worker's inspector target (Miniflare's own workers are listed too). */
async function userTarget(): Promise<string> {
  const targets = (await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json/list`)).json()) as { id: string; title?: string; webSocketDebuggerUrl?: string }[];
  const user = targets.find((t) => t.id.startsWith("core:user:")) ?? targets.find((t) => t.title?.includes("core:user"));
  if (!user) throw new Error(`no user Worker among the inspector's targets: ${targets.map((t) => t.id).join(", ")}`);
  return user.webSocketDebuggerUrl ?? `ws://127.0.0.1:${INSPECTOR_PORT}/${user.id}`;
}

const stops: (() => Promise<void>)[] = [];
try {
  if (process.env["BENCH_SKIP_BUILD"] !== "1") {
    console.error("building dist/ (npm run build) ...");
    build();
  }
  const map = new SourceMap(JSON.parse(readFileSync("dist/index.js.map", "utf8")));
  const miner = await startDevMiner({ name: "profile-zero", token: "t0", models: ["bench-zero"] });
  stops.push(miner.close);
  rmSync(".bench/state-profile", { recursive: true, force: true });
  // R2 served by a second workerd (runtimes.ts): this workerd's CPU counts the router's R2 calls, not the storage, as on Cloudflare.
  const floor = SCENARIO === "floor";
  const mf = await startMiniflare({
    port: PORT,
    persistTo: ".bench/state-profile",
    vars: floor ? { MINER_URL: miner.url, MINER_TOKEN: "t0" } : { ENVIRONMENT: "development" },
    inspectorPort: INSPECTOR_PORT,
    r2: "separate",
    ...(floor ? { worker: "floor" as const } : {}),
  });
  stops.push(mf.stop);
  if (!floor)
    await provision({
      origin: mf.origin,
      adminKey: DEV_ADMIN_TOKEN,
      miners: [{ id: "profile-zero", url: miner.url, credential: "t0", models: ["bench-zero"], max_concurrency: 256 }],
      sessions: [
        { id: 0, name: "profile gateway (redundancy 1)", model: "bench-zero", redundancy: 1 },
        { id: 1, name: "profile redundancy 1", model: "bench-zero", redundancy: 1 },
      ],
    });
  const key = SCENARIO === "gateway" ? await issueBenchKey(mf.origin, "profile") : "";
  const sends: Record<string, Send> = {
    router: (i, signal) =>
      fetch(`${mf.origin}/api/v1/completions/1`, {
        method: "POST",
        signal,
        headers: { ...json, authorization: `Bearer ${DEV_ROUTER_TOKEN}` },
        body: JSON.stringify({ prompt: `Profile prompt ${i % 50}`, max_tokens: 32 }),
      }),
    "router-v3": (i, signal) =>
      fetch(`${mf.origin}/api/v3/completions/0`, {
        method: "POST",
        signal,
        headers: { ...json, authorization: `Bearer ${DEV_ROUTER_TOKEN}` },
        body: JSON.stringify({ prompt: `Profile prompt ${i % 50}`, max_tokens: 32 }),
      }),
    gateway: (i, signal) =>
      fetch(`${mf.origin}/openai/v1/chat/completions`, {
        method: "POST",
        signal,
        headers: { ...json, authorization: `Bearer ${key}` },
        body: JSON.stringify({ model: "default", messages: [{ role: "user", content: `Profile prompt ${i % 50}` }], max_tokens: 32 }),
      }),
    ping: (_i, signal) => fetch(`${mf.origin}/api/v1/ping`, { signal }),
    floor: (i, signal) =>
      fetch(`${mf.origin}/task`, { method: "POST", signal, headers: json, body: JSON.stringify({ model: "bench-zero", prompt: `Profile prompt ${i % 50}`, max_tokens: 32 }) }),
  };
  const send = sends[SCENARIO];
  if (!send) throw new Error(`PROFILE_SCENARIO must be one of ${Object.keys(sends).join(", ")}`);

  console.error(`warming ${SCENARIO} ...`);
  await warm(send, 300);
  // First without the profiler, whose sampling costs CPU too: the true CPU time a request.
  const cpu = cpuMeter(mf);
  const plain = await load(send, REQUESTS, CONNECTIONS);
  const used = cpu();
  const plainCpu = used.worker / Math.max(1, plain.latencies.length + plain.failures);
  const r2Cpu = used.r2 !== undefined ? used.r2 / Math.max(1, plain.latencies.length + plain.failures) : undefined;
  const cdp = await connect(await userTarget());
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: INTERVAL_US });
  console.error(`profiling ${REQUESTS} requests at ${CONNECTIONS} connection(s) ...`);
  await cdp.send("Profiler.start");
  const run = await load(send, REQUESTS, CONNECTIONS);
  const { profile } = await cdp.send<{ profile: CpuProfile }>("Profiler.stop");
  cdp.close();
  mkdirSync(".bench", { recursive: true });
  writeFileSync(`.bench/profile-${SCENARIO}.cpuprofile`, JSON.stringify(profile));

  const frameOf = (f: Frame) => {
    // V8 positions are 0-based, as SourceMap.findEntry wants them.
    const entry = f.url.includes("index.js") ? map.findEntry(f.lineNumber, f.columnNumber) : {};
    const original = "originalSource" in entry && typeof entry.originalSource === "string" ? entry.originalSource : undefined;
    const line = "originalLine" in entry && typeof entry.originalLine === "number" ? entry.originalLine + 1 : undefined;
    const source = original?.replace(/^.*?(node_modules\/|workers\/|durable-objects\/)/, "$1");
    return { name: f.functionName || "(anonymous)", source, line };
  };
  const requests = run.latencies.length + run.failures;
  const s = summarise(profile, frameOf, requests);
  console.log(`\n${SCENARIO}: ${requests} requests (${run.failures} failed) at ${CONNECTIONS} connection(s), sampled every ${INTERVAL_US} µs`);
  console.log(`workerd's CPU time a request, without the profiler: ${plainCpu.toFixed(3)} ms (from /proc; ${plain.failures} failed; ${cpuScope(mf)})`);
  if (r2Cpu !== undefined) console.log(`the R2 service's workerd (not counted above): ${r2Cpu.toFixed(3)} ms a request`);
  console.log(
    `with the profiler, workerd's JavaScript thread was busy ${s.busyMs.toFixed(0)} ms of ${s.wallMs.toFixed(0)} ms: ${s.perRequestMs.toFixed(3)} ms a request (sampling inflates it; read the shares); ${s.unsampledMs.toFixed(0)} ms fell in gaps between samples longer than four intervals and count for no function\n`,
  );
  console.log(
    table(
      ["part of the path (by the innermost frame that names one)", "ms/request", "share"],
      s.categories.map((c) => [c.name, c.perRequestMs.toFixed(3), `${(c.share * 100).toFixed(1)}%`]),
    ),
  );
  console.log("\nfunctions by self time\n");
  console.log(
    table(
      ["function", "source", "ms/request", "share", "part"],
      s.functions.slice(0, 30).map((f) => [f.name, f.where, f.perRequestMs.toFixed(3), `${(f.share * 100).toFixed(1)}%`, categoryOf(f)]),
    ),
  );
  console.log(`\nraw profile: .bench/profile-${SCENARIO}.cpuprofile (Chrome DevTools can open it)`);
  console.log(
    `\n${JSON.stringify({ scenario: SCENARIO, requests, failed: run.failures, cpu_ms_per_request: plainCpu, profiled_ms_per_request: s.perRequestMs, categories: s.categories })}`,
  );
} finally {
  for (const stop of stops.reverse()) await stop().catch((err: unknown) => console.error(err));
}
