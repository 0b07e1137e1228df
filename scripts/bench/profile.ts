/**
 * Where a request's CPU time goes inside workerd: the router's bundle on
 * Miniflare (as the bench runs it) with workerd's DevTools inspector on, a
 * warm-up, then a CPU profile (Chrome DevTools Protocol, Profiler domain)
 * over sequential requests of one scenario. Prints self time by function and
 * by source file of the bundle, per request; writes the profile to
 * .bench/<scenario>.cpuprofile (open it in Chrome DevTools, Performance tab).
 *
 *   node scripts/bench/profile.ts [gateway|router-v1|router-v3] [requests, 300]
 *
 * Env: BENCH_SKIP_BUILD=1 (use dist/ as it is), BENCH_PORT (5120; the next port is the inspector's).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { startDevMiner } from "../../tools/dev-miner/server.ts";
import { DEV_ADMIN_TOKEN } from "../../workers/config/dev-credentials.ts";
import { provision } from "../provision.ts";
import { issueBenchKey, viaGateway, viaRouter } from "./clients.ts";
import { load, type Send, stats, warm } from "./load.ts";
import { build, startMiniflare } from "./runtimes.ts";

const SCENARIOS = ["gateway", "router-v1", "router-v3"] as const;
type Scenario = (typeof SCENARIOS)[number];
const scenario = (process.argv[2] ?? "gateway") as Scenario;
if (!SCENARIOS.includes(scenario)) throw new Error(`scenario must be one of ${SCENARIOS.join(", ")}`);
const REQUESTS = Number(process.argv[3] ?? 300);
const PORT = Number(process.env["BENCH_PORT"] ?? 5120);

type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; hitCount?: number; children?: number[] };
type Profile = { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] };

/** One Chrome DevTools Protocol session over workerd's inspector WebSocket. */
async function inspect(port: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { id: string; title?: string; webSocketDebuggerUrl: string }[];
  // Miniflare runs its own workers beside the user's; the router is the one that is not "core:…" internal loopback.
  const target = targets.find((t) => /core:user:/.test(t.id) && !/__mf|loopback/.test(t.id)) ?? targets.find((t) => /core:user:/.test(t.id));
  if (!target) throw new Error(`no user worker among the inspector's targets: ${targets.map((t) => t.id).join(", ")}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error(`inspector ${target.webSocketDebuggerUrl} refused`)), { once: true });
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  ws.addEventListener("message", (event) => {
    const msg = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (msg.id === undefined) return;
    const w = waiting.get(msg.id);
    waiting.delete(msg.id);
    if (msg.error) w?.reject(new Error(msg.error.message));
    else w?.resolve(msg.result);
  });
  const send = <T>(method: string, params: Record<string, unknown> = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (r: unknown) => void, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { target: target.id, send, close: () => ws.close() };
}

const frameName = (frame: CallFrame) => `${frame.functionName || "(anonymous)"}  ${frame.url.split("/").pop() || "(native)"}:${frame.lineNumber + 1}`;

/**
 * Time (ms) by function: self (the function itself on top of the stack) and
 * inclusive (anywhere in the stack, once per sample). Async work is sampled
 * under the callback that resumed it, and a Durable Object method called over
 * RPC starts a stack of its own, so its inclusive time is that call's cost.
 */
function times(profile: Profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const top = byId.get(id);
    if (!top) return;
    total += ms;
    self.set(frameName(top.callFrame), (self.get(frameName(top.callFrame)) ?? 0) + ms);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (!node) break;
      const name = frameName(node.callFrame);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + ms);
    }
  });
  return { total, self, inclusive };
}

const started: { stop(): Promise<void> }[] = [];
try {
  if (process.env["BENCH_SKIP_BUILD"] !== "1") {
    console.error("building dist/ (npm run build) ...");
    build();
  }
  const miner = await startDevMiner({ name: "profile-zero", token: "t0", models: ["bench-zero"] });
  started.push({ stop: miner.close });
  rmSync(".bench/state-profile", { recursive: true, force: true });
  const mf = await startMiniflare({ port: PORT, inspectorPort: PORT + 1, persistTo: ".bench/state-profile", vars: { ENVIRONMENT: "development" } });
  started.push(mf);
  await provision({
    origin: mf.origin,
    adminKey: DEV_ADMIN_TOKEN,
    miners: [{ id: "bench-zero", url: miner.url, credential: "t0", models: ["bench-zero"], max_concurrency: 256 }],
    sessions: [
      // Session 0 is where the gateway's model "default" goes.
      { id: 0, name: "profile gateway", model: "bench-zero", redundancy: 1 },
      { id: 1, name: "profile redundancy 1", model: "bench-zero", redundancy: 1 },
    ],
  });
  const sends: Record<Scenario, () => Promise<Send>> = {
    gateway: async () => viaGateway(mf.origin, await issueBenchKey(mf.origin)),
    "router-v1": async () => viaRouter(mf.origin, () => 1),
    "router-v3": async () => viaRouter(mf.origin, () => 0, false, "v3"),
  };
  const send = await sends[scenario]();
  const warmed = await warm(send, 50);
  if (warmed.failures > 0) throw new Error(`warm-up failed: ${warmed.firstFailure}`);

  const inspector = await inspect(PORT + 1);
  await inspector.send("Profiler.enable");
  await inspector.send("Profiler.setSamplingInterval", { interval: 100 });
  await inspector.send("Profiler.start");
  const run = await load(send, REQUESTS, 1);
  const { profile } = await inspector.send<{ profile: Profile }>("Profiler.stop");
  inspector.close();

  mkdirSync(".bench", { recursive: true });
  const file = `.bench/${scenario}.cpuprofile`;
  writeFileSync(file, JSON.stringify(profile));
  const s = stats(run);
  const { total, self, inclusive } = times(profile);
  const perRequest = (ms: number) => (ms / Math.max(1, s.requests)).toFixed(3);
  const idle = [...self].filter(([name]) => name.startsWith("(idle)")).reduce((sum, [, ms]) => sum + ms, 0);
  console.log(`${scenario}: ${s.requests} sequential requests, p50 ${s.p50} ms, ${s.failures} failed; inspector target ${inspector.target}`);
  console.log(`sampled time ${total.toFixed(0)} ms, of which idle ${idle.toFixed(0)} ms; busy per request ${perRequest(total - idle)} ms`);
  const print = (title: string, by: Map<string, number>, count: number) => {
    console.log(`\n${title} ms/request  function  file:line`);
    const top = [...by].filter(([name]) => !/^\((idle|root)\)/.test(name)).sort((a, b) => b[1] - a[1]);
    for (const [name, ms] of top.slice(0, count)) console.log(`${perRequest(ms).padStart(10 + title.length - 4)}  ${name}`);
  };
  print("inclusive", inclusive, 50);
  print("self", self, 30);
  console.log(`\nprofile written to ${file}`);
} finally {
  for (const thing of started.reverse()) await thing.stop().catch((err: unknown) => console.error(err));
}
