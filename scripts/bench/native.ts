/**
 * `npm run bench:native`: where the router's CPU a task goes below JavaScript,
 * beside the floor Worker's, in the same run. `bench:profile` sees only the V8
 * thread's JavaScript frames; a task's CPU on workerd is about twice what it
 * samples. This looks at the whole process:
 *  - `perf record` (Linux perf, sampling on-CPU time of every workerd thread)
 *    during a stretch of load over 16 connections, each sample charged to a
 *    part of the runtime by its symbol (V8's builtins, its garbage collector,
 *    JSON, compiled JavaScript, KJ promises and I/O, workerd's API objects,
 *    SQLite, malloc, the kernel), printed as milliseconds a task;
 *  - `strace -c` (every workerd thread) during another stretch: the system
 *    calls a task makes (SQLite's WAL writes and syncs, socket reads and writes).
 * Both tools are optional: the machine's, not installed by this repository.
 * Where one is missing, its part says so and is skipped. Each target is warmed
 * until steady first; the router runs the built bundle (dist/, redundancy 1,
 * v1) on Miniflare's workerd with R2 in a second workerd, as `npm run bench`.
 *
 * Env: NATIVE_SECONDS (loaded seconds a tool a target, 5), NATIVE_FREQUENCY (perf's samples a second, 2000),
 * BENCH_PORT (5710; the next 3 too), BENCH_SKIP_BUILD=1 (use dist/ as it is).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { startDevMiner } from "../../tools/dev-miner/server.ts";
import { provisionOneSession, viaFloor, viaRouter } from "./clients.ts";
import { workerdBelow } from "./cpu.ts";
import { loadFor, round, type Send, warmUntilSteady } from "./load.ts";
import { table } from "./report.ts";
import { build, cpuMeter, type Runtime, startFloor, startMiniflare } from "./runtimes.ts";

const SECONDS = Number(process.env["NATIVE_SECONDS"] ?? 5);
const FREQUENCY = Number(process.env["NATIVE_FREQUENCY"] ?? 2000);
const PORT = Number(process.env["BENCH_PORT"] ?? 5710);
const CONNECTIONS = 16;

const has = (tool: string) => {
  try {
    execFileSync(tool, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

/** Every thread of the target's workerd: strace and perf attach to threads, and workerd runs several. */
function threadsOf(runtime: Runtime): string[] {
  const pid = workerdBelow(runtime.pid)[0];
  if (pid === undefined) throw new Error(`no workerd below ${runtime.pid}`);
  return readdirSync(`/proc/${pid}/task`);
}

/** Runs `tool` attached while `seconds` of load run; answers the tasks done and the /proc CPU a task. */
async function underLoad(tool: { command: string; args: string[] }, send: Send, runtime: Runtime): Promise<{ tasks: number; cpuMs: number }> {
  const tracer: ChildProcess = spawn(tool.command, tool.args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  tracer.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => tracer.on("exit", resolve));
  // Attaching takes a moment; the load starts after it, and the tool stops after the load.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const cpu = cpuMeter(runtime);
  const run = await loadFor(send, SECONDS, CONNECTIONS);
  const used = cpu();
  tracer.kill("SIGINT");
  const code = await exited;
  if (code !== 0 && code !== null && code !== 130) throw new Error(`${tool.command} exited ${code}: ${stderr.slice(-500)}`);
  const tasks = run.latencies.length + run.failures;
  return { tasks, cpuMs: used.worker / Math.max(1, tasks) };
}

/** What part of the runtime a sampled symbol belongs to (its DSO first: the kernel, libc, V8's compiled code). */
function partOf(dso: string, symbol: string): string {
  if (dso.includes("kernel")) return "kernel (system calls, I/O, scheduling)";
  if (dso.startsWith("[JIT]") || dso.startsWith("perf-")) return "compiled JavaScript (V8's JIT)";
  if (dso.startsWith("libc")) return "libc (memcpy, locks)";
  const parts: [RegExp, string][] = [
    [/^(v8::internal::(Scavenger|Heap|MarkCompact|Mark|Sweep|ConcurrentMarking|MinorMark)|cppgc::)/, "garbage collection (V8, cppgc)"],
    [/^v8::internal::(Json|FastJson)/, "JSON (V8)"],
    [/^(v8::(ValueSerializer|ValueDeserializer)|v8::internal::Value(Serializer|Deserializer))/, "structured clone (RPC)"],
    [/^Builtins_/, "V8 builtins (promises, calls, property access)"],
    [/^v8::/, "V8 runtime (handles, objects, lookups)"],
    [/^(sqlite3|wal|pager|btree|pcache)/i, "SQLite"],
    [/^(tcmalloc|TCMalloc)/, "malloc (tcmalloc)"],
    [/^kj::_::/, "KJ promises and events"],
    [/^(kj::Http|kj_hyper|<hyper|hyper)/, "HTTP (KJ, hyper)"],
    [/^(kj::|capnp::)/, "KJ and Cap'n Proto (I/O, strings, RPC)"],
    [/^workerd::jsg::/, "JSG (JS to C++ bindings)"],
    [/^workerd::api::/, "workerd's API objects (Request, Response, Headers, fetch, SQL)"],
    [/^workerd::/, "workerd (I/O context, actors, output gate)"],
  ];
  for (const [pattern, part] of parts) if (pattern.test(symbol)) return part;
  return "other";
}

type Sampled = { parts: Map<string, number>; symbols: Map<string, number>; samples: number };

/** `perf report` of a recording: samples by part and by symbol. */
function readPerf(file: string): Sampled {
  const text = execFileSync("perf", ["report", "-i", file, "--no-children", "--sort", "dso,sym", "-g", "none", "--stdio", "-F", "overhead,sample,dso,sym"], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    stdio: ["ignore", "pipe", "ignore"],
  });
  const parts = new Map<string, number>();
  const symbols = new Map<string, number>();
  let samples = 0;
  for (const line of text.split("\n")) {
    // "  12.34%  567  workerd  [.] symbol"
    const match = /^\s*[\d.]+%\s+(\d+)\s+(\S.*?)\s+\[.\]\s+(.*)$/.exec(line);
    if (!match) continue;
    const count = Number(match[1]);
    const dso = match[2] ?? "";
    const symbol = (match[3] ?? "").trim();
    samples += count;
    const part = partOf(dso, symbol);
    parts.set(part, (parts.get(part) ?? 0) + count);
    symbols.set(symbol.slice(0, 90), (symbols.get(symbol.slice(0, 90)) ?? 0) + count);
  }
  return { parts, symbols, samples };
}

/** `strace -c`'s summary: calls by system call. */
function readStrace(file: string, text: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const line of text.split("\n")) {
    // "% time  seconds  usecs/call  calls  errors syscall": errors may be empty.
    const match = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?([a-z_0-9]+)\s*$/.exec(line);
    if (match && match[2] !== "total") calls.set(match[2] ?? "", Number(match[1]));
  }
  if (calls.size === 0) throw new Error(`no system calls read from ${file}`);
  return calls;
}

const stops: (() => Promise<void>)[] = [];
try {
  const withPerf = has("perf");
  const withStrace = has("strace");
  if (!withPerf && !withStrace) {
    console.log("bench:native needs Linux perf or strace (neither is installed): nothing measured");
    process.exit(0);
  }
  if (process.env["BENCH_SKIP_BUILD"] !== "1") build();
  const miner = await startDevMiner({ name: "native-zero", token: "t0", models: ["bench", "bench-zero"] });
  stops.push(miner.close);
  rmSync(".bench/state-native", { recursive: true, force: true });
  const router = await startMiniflare({ port: PORT, persistTo: ".bench/state-native", vars: { ENVIRONMENT: "development" }, r2: "separate" });
  stops.push(router.stop);
  await provisionOneSession(router.origin, miner.url, "native (redundancy 1)");
  const floor = await startFloor({ port: PORT + 2, persistTo: ".bench/state-native-floor", minerUrl: miner.url });
  stops.push(floor.stop);
  const targets = [
    { name: "router r=1 (v1)", runtime: router, send: viaRouter(router.origin, () => 0) },
    { name: "floor /task", runtime: floor, send: viaFloor(floor.origin, "/task") },
  ];

  const perf = new Map<string, { sampled: Sampled; tasks: number; cpuMs: number }>();
  const strace = new Map<string, { calls: Map<string, number>; tasks: number; cpuMs: number }>();
  for (const t of targets) {
    const warmed = await warmUntilSteady(t.send, { connections: CONNECTIONS, windowSeconds: 1, tolerance: 0.05, maxSeconds: 15 });
    console.error(`${t.name}: warmed ${warmed.seconds} s (${warmed.windows.join(", ")} req/s)`);
    if (withPerf) {
      const file = `.bench/native-${t.name.split(" ")[0]}.perf.data`;
      const args = ["record", "-F", String(FREQUENCY), "-o", file, "-t", threadsOf(t.runtime).join(",")];
      const run = await underLoad({ command: "perf", args }, t.send, t.runtime);
      perf.set(t.name, { sampled: readPerf(file), ...run });
    }
    if (withStrace) {
      const file = `.bench/native-${t.name.split(" ")[0]}.strace.txt`;
      const args = ["-c", "-f", "-o", file, ...threadsOf(t.runtime).flatMap((tid) => ["-p", tid])];
      const run = await underLoad({ command: "strace", args }, t.send, t.runtime);
      strace.set(t.name, { calls: readStrace(file, readFileSync(file, "utf8")), ...run });
    }
  }

  const [a, b] = targets.map((t) => t.name) as [string, string];
  if (withPerf) {
    const ra = perf.get(a);
    const rb = perf.get(b);
    if (ra && rb) {
      // A sample is 1/FREQUENCY s of one thread's CPU.
      const msPerTask = (count: number, run: { tasks: number }) => round(((count / FREQUENCY) * 1000) / Math.max(1, run.tasks));
      const parts = [...new Set([...ra.sampled.parts.keys(), ...rb.sampled.parts.keys()])];
      const rows = parts
        .map((part): [string, number, number, number] => {
          const x = msPerTask(ra.sampled.parts.get(part) ?? 0, ra);
          const y = msPerTask(rb.sampled.parts.get(part) ?? 0, rb);
          return [part, x, y, round(x - y)];
        })
        .sort((p, q) => q[3] - p[3]);
      console.log(`\nCPU a task by part of the runtime, perf at ${FREQUENCY} Hz over ${SECONDS} s at ${CONNECTIONS} connections (ms a task)\n`);
      console.log(
        table(
          ["part", a, b, "difference"],
          [
            ...rows,
            ["all sampled", msPerTask(ra.sampled.samples, ra), msPerTask(rb.sampled.samples, rb), round(msPerTask(ra.sampled.samples, ra) - msPerTask(rb.sampled.samples, rb))],
            ["CPU from /proc, same stretch", round(ra.cpuMs), round(rb.cpuMs), round(ra.cpuMs - rb.cpuMs)],
          ],
        ),
      );
      const symbols = [...new Set([...ra.sampled.symbols.keys(), ...rb.sampled.symbols.keys()])]
        .map((s): [string, number, number, number] => {
          const x = msPerTask(ra.sampled.symbols.get(s) ?? 0, ra);
          const y = msPerTask(rb.sampled.symbols.get(s) ?? 0, rb);
          return [s, x, y, round(x - y)];
        })
        .sort((p, q) => q[3] - p[3])
        .slice(0, 20);
      console.log(`\nthe 20 symbols with the largest difference (ms a task)\n`);
      console.log(table(["symbol", a, b, "difference"], symbols));
    }
  } else console.log("\nperf is not installed: the CPU by part of the runtime is not measured");
  if (withStrace) {
    const sa = strace.get(a);
    const sb = strace.get(b);
    if (sa && sb) {
      const per = (n: number, run: { tasks: number }) => round(n / Math.max(1, run.tasks));
      const names = [...new Set([...sa.calls.keys(), ...sb.calls.keys()])];
      const rows = names
        .map((n): [string, number, number] => [n, per(sa.calls.get(n) ?? 0, sa), per(sb.calls.get(n) ?? 0, sb)])
        .filter(([, x, y]) => x >= 0.05 || y >= 0.05)
        .sort((p, q) => q[1] - p[1]);
      const total = (run: { calls: Map<string, number>; tasks: number }) =>
        per(
          [...run.calls.values()].reduce((s, n) => s + n, 0),
          run,
        );
      console.log(`\nsystem calls a task, strace -c over ${SECONDS} s at ${CONNECTIONS} connections (strace slows the target; the counts hold)\n`);
      console.log(table(["system call", a, b], [...rows, ["all", total(sa), total(sb)]]));
    }
  } else console.log("\nstrace is not installed: system calls are not counted");
} finally {
  for (const stop of stops.reverse()) await stop().catch((err: unknown) => console.error(err));
}
