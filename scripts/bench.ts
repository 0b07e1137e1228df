/**
 * `npm run bench`: the router measured as production runs it, beside a plain
 * proxy, in one run on loopback (see BENCHMARKS.md):
 *  - the router's bundle (dist/, `npm run build`) on workerd through Miniflare,
 *    no `wrangler dev` proxy; `wrangler dev` beside it for reference;
 *  - Portkey's open-source gateway (installed into .bench/portkey at run time),
 *    pointed at the same zero-latency dev miner;
 *  - per scenario: a warm-up until its req/s is steady, sequential p50/p99 and
 *    what it adds over the miner, req/s at 16 connections over a stretch of
 *    time, failed requests, and workerd's CPU time per task (the measured Worker's
 *    workerd only: R2 is served by a second workerd, as on Cloudflare R2 is another
 *    service, whose CPU is printed apart, bench/runtimes.ts); the miner, Portkey,
 *    the router (v1 and v3) and the floor Worker's task in every round, their
 *    order rotated each round;
 *  - 1, 2, 4 and 8 redundancy-1 sessions sharing 16 connections; one hot
 *    session sharded 1, 2, 4 and 8 ways (setting `shards`) at 16 connections; the gateway
 *    path over the router path; redundancy 3 over its quorum's miner; streaming
 *    time to first token; a bare ping through each runtime; the floor Worker
 *    (scripts/bench/floor/): the least a task costs on this runtime;
 *  - each loaded scenario's busiest Durable Object and the calls a second it took.
 *  - issue 27's targets, each with its figure and MET / NOT MET (bench/targets.ts).
 * Prints tables, then one JSON line with every figure.
 *
 * Env: BENCH_REQUESTS (sequential, 200), BENCH_LOAD_SECONDS (loaded seconds of the compared
 * targets at 16 connections, 8), BENCH_SIDE_SECONDS (loaded seconds of the other scenarios, 3),
 * BENCH_SERIES_SECONDS (loaded seconds a count of the session and shard series, 3),
 * BENCH_WARM_MAX_S (the warm-up's cap, 15), BENCH_WARM_WINDOW_S (its window, 1),
 * BENCH_CONNECTIONS (16), BENCH_ROUNDS (rounds, 3; each figure is the median round's), BENCH_PORT (5110; uses the next 3 ports too, and the profiler BENCH_PORT + 9),
 * BENCH_WRANGLER=0 (skip wrangler dev), BENCH_PORTKEY=0 (skip Portkey),
 * BENCH_PORTKEY_VERSION (1.15.2), BENCH_SKIP_BUILD=1 (use dist/ as it is),
 * BENCH_ONLY=shards (only the sharded-session series, on Miniflare), BENCH_ONLY=signing (only the
 * CPU of signed results and receipts, then tasks with signatures off and required at r=1 and r=3 on
 * Miniflare, port BENCH_PORT + 4: scripts/bench/signing.ts), BENCH_ONLY=metering (only the CPU per task of
 * the router's own usage count and the audit of miners' reported usage: scripts/bench/metering.ts),
 * BENCH_ONLY=chain (only the gas of a written-back hybrid task on the dev chain: scripts/bench/chain-gas.ts).
 */
import { rmSync } from "node:fs";
import { startDevMiner } from "../tools/dev-miner/server.ts";
import { DEV_ADMIN_TOKEN, DEV_CUSTOMER_KEY } from "../domain/config/dev-credentials.ts";
import { firstByte, load, loadFor, median, round, type Send, type Stats, stats, warm, type Warmed, warmUntilSteady } from "./bench/load.ts";
import { type Portkey, portkeyHeaders, startPortkey } from "./bench/portkey.ts";
import { table } from "./bench/report.ts";
import { build, cpuMeter, cpuScope, type Runtime, startFloor, startMiniflare, startWranglerDev } from "./bench/runtimes.ts";
import { runSeries, type SeriesPoint, seriesCells, seriesHeader } from "./bench/series.ts";
import { provision } from "./provision.ts";
import { issueBenchKey, prompt, viaFloor, viaGateway, viaRouter } from "./bench/clients.ts";
import { type Busiest, busiest, objectCounts } from "./bench/object-traffic.ts";
import { printSigningBench, printSigningCosts } from "./bench/signing.ts";
import { printMeteringCosts } from "./bench/metering.ts";
import { printChainGas } from "./bench/chain-gas.ts";
import { judgeAgainstWriteAheadFloor, judgeTargets, printReference, printTargets, type TargetFigures } from "./bench/targets.ts";

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SEQUENTIAL = env("BENCH_REQUESTS", 200);
if (process.env["BENCH_LOAD_REQUESTS"] !== undefined) throw new Error("BENCH_LOAD_REQUESTS is gone: loaded runs are bounded by time, BENCH_LOAD_SECONDS");
const LOAD_SECONDS = env("BENCH_LOAD_SECONDS", 8);
const SIDE_SECONDS = env("BENCH_SIDE_SECONDS", 3);
const SERIES_SECONDS = env("BENCH_SERIES_SECONDS", 3);
const WARM = { windowSeconds: env("BENCH_WARM_WINDOW_S", 1), tolerance: 0.05, maxSeconds: env("BENCH_WARM_MAX_S", 15) };
const CONNECTIONS = env("BENCH_CONNECTIONS", 16);
const PORT = env("BENCH_PORT", 5110);
const WITH_WRANGLER = process.env["BENCH_WRANGLER"] !== "0";
const WITH_PORTKEY = process.env["BENCH_PORTKEY"] !== "0";
const PORTKEY_VERSION = process.env["BENCH_PORTKEY_VERSION"] ?? "1.15.2";
const ROUNDS = Math.max(1, env("BENCH_ROUNDS", 3));
const SESSION_COUNTS = [1, 2, 4, 8];
const SCALING_SESSIONS = [11, 12, 13, 14, 15, 16, 17, 18];
/** One session per shard count: session 20 + n has `shards: n`. */
const SHARD_COUNTS = [1, 2, 4, 8];
const shardedSession = (n: number) => 20 + n;
const ONLY = process.env["BENCH_ONLY"];
if (ONLY !== undefined && ONLY !== "shards" && ONLY !== "signing" && ONLY !== "metering" && ONLY !== "chain") {
  throw new Error(`BENCH_ONLY=${ONLY}: the subsets are "shards", "signing", "metering" and "chain"`);
}
if (ONLY === "chain") {
  await printChainGas();
  process.exit(0);
}
if (ONLY === "metering") {
  printMeteringCosts();
  process.exit(0);
}
if (ONLY === "signing") {
  await printSigningBench({ port: PORT + 4, requests: Math.min(SEQUENTIAL, 100), rounds: ROUNDS, skipBuild: process.env["BENCH_SKIP_BUILD"] === "1" });
  process.exit(0);
}

const json = { "content-type": "application/json" };
const minerDirect =
  (url: string, token: string, stream = false): Send =>
  (i, signal) =>
    fetch(`${url}/v1/completions`, {
      method: "POST",
      signal,
      headers: { ...json, authorization: `Bearer ${token}` },
      body: JSON.stringify({ model: "bench", prompt: prompt(i), max_tokens: 32, stream }),
    });
const viaPortkey =
  (portkey: Portkey, minerUrl: string): Send =>
  (i, signal) =>
    fetch(`${portkey.origin}/v1/completions`, {
      method: "POST",
      signal,
      headers: portkeyHeaders(minerUrl, "t0"),
      body: JSON.stringify({ model: "bench", prompt: prompt(i), max_tokens: 32 }),
    });
const ping =
  (origin: string): Send =>
  (_i, signal) =>
    fetch(`${origin}/api/v1/ping`, { signal });

type Row = {
  name: string;
  sequential: Stats;
  loaded?: Stats;
  cpu_ms_per_task?: number;
  /** The same over the loaded phase alone (printed beside the targets, not judged: the targets read both phases). */
  cpu_ms_per_task_loaded?: number;
  cpu_loaded_median?: number;
  /** The R2 service's CPU a task (its own workerd, not in cpu_ms_per_task: on Cloudflare R2 is not the Worker's CPU). */
  r2_service_cpu_ms_per_task?: number;
  /** The Durable Object that took the most calls during the loaded run, and how many a second. */
  busiest_object?: Busiest;
  first_failure?: string;
  p50_rounds?: number[];
  /** Every round's loaded req/s and CPU per task, and their medians (the targets read these). */
  rps_rounds?: number[];
  rps_median?: number;
  cpu_rounds?: number[];
  cpu_median?: number;
  r2_service_cpu_median?: number;
  /** The warm-up before this round's figures: seconds of load, and whether it settled before the cap. */
  warm_up?: { seconds: number; settled: boolean; windows_rps: number[] };
  /** Every round's warm-up (on the reported row). */
  warm_up_rounds?: { seconds: number; settled: boolean }[];
};
/** Each scenario's rows, one a round; `rows` gets each scenario's median round. */
const perRound = new Map<string, Row[]>();
const rows: Row[] = [];
const notes: string[] = [];

/** The middle value (the upper of the two middle ones for an even count, as the rounds' median row is picked). */
const warmUp = (send: Send) => warmUntilSteady(send, { connections: CONNECTIONS, ...WARM });
const warmNote = (w: Warmed) => `warmed ${w.seconds} s (${w.settled ? "settled" : "NOT settled"}: ${w.windows.join(", ")} req/s)`;

/**
 * Warm until steady at `CONNECTIONS` (a scenario without a loaded run: 20 sequential requests),
 * then `SEQUENTIAL` requests one at a time, then `seconds` of load at `CONNECTIONS`; CPU per task
 * from the runtime's workerd processes over both.
 */
async function scenario(name: string, send: Send, runtime?: Runtime, options: { loaded?: boolean; seconds?: number } = {}): Promise<Row> {
  const loaded = options.loaded !== false;
  const steadied = loaded ? await warmUp(send) : undefined;
  const warmed = steadied ?? (await warm(send));
  const cpu = runtime ? cpuMeter(runtime) : undefined;
  const seq = await load(send, SEQUENTIAL, 1);
  const countsBefore = runtime?.name === "miniflare" ? await objectCounts(runtime.origin) : undefined;
  // The loaded phase's own CPU too: a sequential task costs about twice a loaded one (each its own wake-ups and commit).
  const cpuLoaded = runtime && loaded ? cpuMeter(runtime) : undefined;
  const conc = loaded ? await loadFor(send, options.seconds ?? SIDE_SECONDS, CONNECTIONS) : undefined;
  const usedLoaded = cpuLoaded?.();
  const top = conc && runtime && countsBefore ? busiest(countsBefore, await objectCounts(runtime.origin), conc.seconds) : undefined;
  const tasks = seq.latencies.length + seq.failures + (conc ? conc.latencies.length + conc.failures : 0);
  const row: Row = { name, sequential: stats(seq) };
  if (conc) row.loaded = stats(conc);
  const used = cpu?.();
  if (used) row.cpu_ms_per_task = round(used.worker / Math.max(1, tasks));
  if (used?.r2 !== undefined) row.r2_service_cpu_ms_per_task = round(used.r2 / Math.max(1, tasks));
  if (usedLoaded && conc) row.cpu_ms_per_task_loaded = round(usedLoaded.worker / Math.max(1, conc.latencies.length + conc.failures));
  if (top) row.busiest_object = top;
  if (steadied) row.warm_up = { seconds: steadied.seconds, settled: steadied.settled, windows_rps: steadied.windows };
  const failure = warmed.firstFailure ?? seq.firstFailure ?? conc?.firstFailure;
  if (failure) row.first_failure = failure;
  row.sequential.failures += warmed.failures;
  perRound.set(name, [...(perRound.get(name) ?? []), row]);
  console.error(
    `  ${name}: ${steadied ? `${warmNote(steadied)}; ` : ""}p50 ${row.sequential.p50} ms${row.loaded ? `, ${row.loaded.rps} req/s` : ""}${failure ? `, FAILED: ${failure}` : ""}`,
  );
  return row;
}

async function provisionRouter(runtime: Runtime, miners: { zero: string; tiered: string[] }) {
  await provision({
    origin: runtime.origin,
    adminKey: DEV_ADMIN_TOKEN,
    miners: [
      { id: "bench-zero", url: miners.zero, credential: "t0", models: ["bench-zero"], max_concurrency: 256 },
      ...miners.tiered.map((url, i) => ({ id: `bench-${[20, 40, 80][i]}ms`, url, credential: `t${[20, 40, 80][i]}`, models: ["bench-r3"], max_concurrency: 256 })),
    ],
    sessions: [
      // Session 0 is where the gateway's model "default" goes.
      { id: 0, name: "bench gateway (redundancy 1)", model: "bench-zero", redundancy: 1 },
      { id: 1, name: "bench redundancy 1", model: "bench-zero", redundancy: 1 },
      { id: 3, name: "bench redundancy 3", model: "bench-r3", redundancy: 3 },
      ...SCALING_SESSIONS.map((id) => ({ id, name: `bench scaling ${id}`, model: "bench-zero", redundancy: 1 })),
      ...SHARD_COUNTS.map((n) => ({ id: shardedSession(n), name: `bench ${n} shard(s)`, model: "bench-zero", redundancy: 1, shards: n })),
    ],
  });
}

const started: { stop(): Promise<void> }[] = [];
let stopping = false;
async function stopAll() {
  if (stopping) return;
  stopping = true;
  for (const thing of started.reverse()) await thing.stop().catch((err: unknown) => console.error(err));
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stopAll().then(() => process.exit(130)));

try {
  if (process.env["BENCH_SKIP_BUILD"] !== "1") {
    console.error("building dist/ (npm run build) ...");
    build();
  }
  // The object-traffic meter counts calls by Durable Object, for each scenario's busiest object.
  const vars = { ENVIRONMENT: "development", OBJECT_TRAFFIC_METER: "true" };
  const zero = await startDevMiner({ name: "bench-zero", token: "t0", models: ["bench", "bench-zero"] });
  const tiered = await Promise.all(
    [20, 40, 80].map((latencyMs) => startDevMiner({ name: `bench-${latencyMs}ms`, token: `t${latencyMs}`, latencyMs, models: ["bench", "bench-r3"] })),
  );
  for (const m of [zero, ...tiered]) started.push({ stop: m.close });
  const minerUrls = { zero: zero.url, tiered: tiered.map((m) => m.url) };

  console.error("starting the router on Miniflare (workerd, no wrangler proxy) ...");
  rmSync(".bench/state-miniflare", { recursive: true, force: true });
  // R2 served by a second workerd, as on Cloudflare R2 is another service (runtimes.ts): the router's CPU counts its calls, not the storage.
  const mf = await startMiniflare({ port: PORT, persistTo: ".bench/state-miniflare", vars, r2: "separate" });
  started.push(mf);
  await provisionRouter(mf, minerUrls);

  let floor: Runtime | undefined;
  if (!ONLY) {
    console.error("starting the floor Worker on Miniflare (the least a task costs here) ...");
    floor = await startFloor({ port: PORT + 3, persistTo: ".bench/state-floor", minerUrl: zero.url });
    started.push(floor);
  }

  let wrangler: Runtime | undefined;
  if (WITH_WRANGLER && !ONLY) {
    console.error("starting the router on wrangler dev (reference) ...");
    rmSync(".bench/state-wrangler", { recursive: true, force: true });
    wrangler = await startWranglerDev({ port: PORT + 1, persistTo: ".bench/state-wrangler", vars });
    started.push(wrangler);
    await provisionRouter(wrangler, minerUrls);
  }

  let portkey: Portkey | undefined;
  if (WITH_PORTKEY && !ONLY) {
    console.error(`starting Portkey's gateway ${PORTKEY_VERSION} (installed into .bench/portkey) ...`);
    try {
      portkey = await startPortkey({ cacheDir: ".bench/portkey", version: PORTKEY_VERSION, port: PORT + 2 });
      started.push(portkey);
    } catch (err) {
      notes.push(`Portkey's gateway not measured: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  console.error("measuring ...");
  /** One hot session: all the load on one session, sharded n ways. */
  const shardSeries = () =>
    runSeries({
      label: "shard(s)",
      counts: SHARD_COUNTS,
      sendFor: (n) => viaRouter(mf.origin, () => shardedSession(n)),
      rounds: ROUNDS,
      seconds: SERIES_SECONDS,
      connections: CONNECTIONS,
      warmUp,
      runtimePid: mf.pid,
      origin: mf.origin,
    });
  const printShards = (points: SeriesPoint[]) => {
    console.log(`\none redundancy-1 session sharded n ways, ${CONNECTIONS} connections (${SERIES_SECONDS} s a round, ${ROUNDS} rounds), Miniflare\n`);
    console.log(
      table(
        ["shards", ...seriesHeader],
        points.map((p) => [p.n, ...seriesCells(p)]),
      ),
    );
  };
  if (ONLY === "shards") {
    const shards = await shardSeries();
    printShards(shards);
    for (const p of shards) if (p.first_failure) console.log(`  first failure, ${p.n} shard(s): ${p.first_failure}`);
    console.log(`\n${JSON.stringify({ series_seconds: SERIES_SECONDS, connections: CONNECTIONS, rounds: ROUNDS, shard_scaling: shards })}`);
  } else {
    const benchKey = await issueBenchKey(mf.origin);
    const names = {
      direct: "miner direct (0 ms)",
      portkey: `Portkey gateway ${PORTKEY_VERSION}`,
      r1: "router r=1, Miniflare",
      r1w: "router r=1, wrangler dev (reference)",
      r1v3: "router r=1, v3 (the gateway's path), Miniflare",
      second: "miner direct (40 ms, r=3's quorum)",
      r3: "router r=3 (20/40/80 ms), Miniflare",
      gw: "gateway /openai/v1 chat, dev key, Miniflare",
      gwBench: "gateway /openai/v1 chat, bench key, Miniflare",
      pingMf: "GET /api/v1/ping, Miniflare",
      floorPing: "floor: GET /ping, Miniflare",
      floorRelay: "floor: Worker → miner, Miniflare",
      floorTask: "floor: Worker → DO → miner + 1 row, Miniflare",
      floorTaskR2: "floor: the same + the v3 path's 2 R2 puts, Miniflare",
      floorTaskWal: "floor: Worker → DO, row written ahead → miner → output, Miniflare",
      pingW: "GET /api/v1/ping, wrangler dev",
    };
    // The compared targets: the miner (every added p50's base), Portkey, the router on v1 and on
    // v3 (the gateway's path) and the floor Worker's task, each in every round, loaded for
    // LOAD_SECONDS, their order rotated a place each round so that none always goes first.
    type Planned = { name: string; send: Send; runtime?: Runtime };
    const compared: Planned[] = [
      { name: names.direct, send: minerDirect(zero.url, "t0") },
      ...(portkey ? [{ name: names.portkey, send: viaPortkey(portkey, zero.url) }] : []),
      { name: names.r1, send: viaRouter(mf.origin, () => 1), runtime: mf },
      // The router path the gateway's local pool calls: the v3 flow (prompt stored in R2) on its session.
      { name: names.r1v3, send: viaRouter(mf.origin, () => 0, false, "v3"), runtime: mf },
      ...(floor
        ? [
            { name: names.floorTask, send: viaFloor(floor.origin, "/task"), runtime: floor },
            // The same written ahead (two commits, as the router's crash promise needs): the floor of a router that keeps it.
            { name: names.floorTaskWal, send: viaFloor(floor.origin, "/task-wal"), runtime: floor },
          ]
        : []),
    ];
    // Every scenario once a round, ROUNDS rounds, so that a shared machine's drift spreads over all.
    for (let r = 0; r < ROUNDS; r++) {
      const order = compared.map((_, k) => compared[(k + r) % compared.length] as Planned);
      console.error(` round ${r + 1} of ${ROUNDS}: ${order.map((p) => p.name).join(" → ")}, then the others`);
      for (const planned of order) await scenario(planned.name, planned.send, planned.runtime, { seconds: LOAD_SECONDS });
      if (wrangler)
        await scenario(
          names.r1w,
          viaRouter(wrangler.origin, () => 1),
          wrangler,
        );
      await scenario(names.second, minerDirect(tiered[1]?.url ?? "", "t40"), undefined, { loaded: false });
      await scenario(
        names.r3,
        viaRouter(mf.origin, () => 3),
        mf,
      );
      // The dev key allows 600 requests a minute: sequential only, first round only.
      if (r === 0) await scenario(names.gw, viaGateway(mf.origin, DEV_CUSTOMER_KEY), mf, { loaded: false });
      await scenario(names.gwBench, viaGateway(mf.origin, benchKey), mf);
      await scenario(names.pingMf, ping(mf.origin), mf);
      if (floor) {
        const origin = floor.origin;
        await scenario(names.floorPing, (_i, signal) => fetch(`${origin}/ping`, { signal }), floor);
        await scenario(names.floorRelay, viaFloor(origin, "/relay"), floor);
        await scenario(names.floorTaskR2, viaFloor(origin, "/task-r2"), floor);
      }
      if (wrangler) await scenario(names.pingW, ping(wrangler.origin), wrangler);
    }
    // Each scenario's figures are those of its median round by sequential p50; failures add up.
    for (const [, runs] of perRound) {
      const sorted = [...runs].sort((x, y) => x.sequential.p50 - y.sequential.p50);
      const middle = sorted[Math.floor(sorted.length / 2)];
      if (!middle) continue;
      const failures = (pick: (row: Row) => number) => runs.reduce((sum, row) => sum + pick(row), 0);
      const row: Row = { ...middle, p50_rounds: runs.map((x) => x.sequential.p50), sequential: { ...middle.sequential, failures: failures((x) => x.sequential.failures) } };
      const rpsRounds = runs.flatMap((x) => (x.loaded ? [x.loaded.rps] : []));
      const cpuRounds = runs.flatMap((x) => (x.cpu_ms_per_task !== undefined ? [x.cpu_ms_per_task] : []));
      const r2Rounds = runs.flatMap((x) => (x.r2_service_cpu_ms_per_task !== undefined ? [x.r2_service_cpu_ms_per_task] : []));
      if (rpsRounds.length > 0) Object.assign(row, { rps_rounds: rpsRounds, rps_median: median(rpsRounds) });
      if (cpuRounds.length > 0) Object.assign(row, { cpu_rounds: cpuRounds, cpu_median: median(cpuRounds) });
      const cpuLoadedRounds = runs.flatMap((x) => (x.cpu_ms_per_task_loaded !== undefined ? [x.cpu_ms_per_task_loaded] : []));
      if (cpuLoadedRounds.length > 0) row.cpu_loaded_median = median(cpuLoadedRounds);
      if (r2Rounds.length > 0) row.r2_service_cpu_median = median(r2Rounds);
      const warmUps = runs.flatMap((x) => (x.warm_up ? [{ seconds: x.warm_up.seconds, settled: x.warm_up.settled }] : []));
      if (warmUps.length > 0) row.warm_up_rounds = warmUps;
      if (middle.loaded) row.loaded = { ...middle.loaded, failures: failures((x) => x.loaded?.failures ?? 0) };
      const failure = runs.find((x) => x.first_failure)?.first_failure;
      if (failure) row.first_failure = failure;
      rows.push(row);
    }
    const find = (name: string) => rows.find((row) => row.name === name);
    const must = (name: string) => {
      const row = find(name);
      if (!row) throw new Error(`no figures for ${name}`);
      return row;
    };
    const direct = must(names.direct);
    const pk = find(names.portkey);
    const r1 = must(names.r1);
    const r1w = find(names.r1w);
    const second = must(names.second);
    const r3 = must(names.r3);
    const gw = must(names.gw);
    const pingMf = must(names.pingMf);
    const pingW = find(names.pingW);

    // Sessions sharing the connections: request i goes to session i mod n. The counts alternate
    // over ROUNDS rounds (a shared machine drifts); each figure is the median round's.
    type Scaling = Omit<SeriesPoint, "n"> & { sessions: number; rps_per_session: number };
    const scaling: Scaling[] = (
      await runSeries({
        label: "session(s)",
        counts: SESSION_COUNTS,
        sendFor: (n) => viaRouter(mf.origin, (i) => SCALING_SESSIONS[((i % n) + n) % n] ?? 11),
        rounds: ROUNDS,
        seconds: SERIES_SECONDS,
        connections: CONNECTIONS,
        warmUp,
        runtimePid: mf.pid,
        origin: mf.origin,
      })
    ).map(({ n, ...point }) => ({ sessions: n, ...point, rps_per_session: round(point.rps / n) }));
    const shards = await shardSeries();

    // Streaming: time to first token (the first chunk of either body is the event carrying it).
    // Portkey is left out: 1.15.2 answers 500 to a streamed request on Node 22 (its updateHeaders
    // appends to a fetched response's immutable headers: "TypeError: immutable").
    const ttftRuns = [
      { name: "miner direct (0 ms), stream", send: minerDirect(zero.url, "t0", true) },
      { name: "router r=1, Miniflare, stream", send: viaRouter(mf.origin, () => 1, true) },
    ];
    const ttft: { name: string; p50: number; p99: number; failures: number; first_failure?: string }[] = [];
    for (const { name, send } of ttftRuns) {
      await warm(send, 5);
      const run = await firstByte(send, Math.min(SEQUENTIAL, 100));
      const s = stats(run);
      ttft.push({ name, p50: s.p50, p99: s.p99, failures: s.failures, ...(run.firstFailure ? { first_failure: run.firstFailure } : {}) });
    }

    const added = (row: Row | undefined, base: Row) => (row ? round(row.sequential.p50 - base.sequential.p50) : undefined);
    const summary = {
      sequential_requests: SEQUENTIAL,
      load_seconds: { compared: LOAD_SECONDS, others: SIDE_SECONDS, series: SERIES_SECONDS },
      warm_up: { window_seconds: WARM.windowSeconds, tolerance: WARM.tolerance, max_seconds: WARM.maxSeconds },
      connections: CONNECTIONS,
      added_p50_ms: {
        portkey: added(pk, direct),
        router_r1_miniflare: added(r1, direct),
        router_r1_wrangler_dev: added(r1w, direct),
        router_r3_over_quorum_miner: added(r3, second),
        router_r1_v3_over_v1: added(find(names.r1v3), r1),
        gateway_bench_key_over_router_v3: added(find(names.gwBench), must(names.r1v3)),
        gateway_over_router: round(gw.sequential.p50 - r1.sequential.p50),
      },
      router_to_portkey_added_ratio: pk ? round((r1.sequential.p50 - direct.sequential.p50) / Math.max(0.01, pk.sequential.p50 - direct.sequential.p50)) : undefined,
      ping_floor_p50_ms: { miniflare: pingMf.sequential.p50, wrangler_dev: pingW?.sequential.p50 },
      // The least a task costs on this runtime (scripts/bench/floor/floor-worker.js): CPU and added p50.
      floor: {
        task_cpu_ms: find(names.floorTask)?.cpu_ms_per_task,
        task_added_p50_ms: added(find(names.floorTask), direct),
        relay_cpu_ms: find(names.floorRelay)?.cpu_ms_per_task,
        relay_added_p50_ms: added(find(names.floorRelay), direct),
        ping_cpu_ms: find(names.floorPing)?.cpu_ms_per_task,
        task_r2_cpu_ms: find(names.floorTaskR2)?.cpu_ms_per_task,
        task_written_ahead_cpu_ms: find(names.floorTaskWal)?.cpu_median,
        task_written_ahead_added_p50_ms: added(find(names.floorTaskWal), direct),
        task_written_ahead_rps: find(names.floorTaskWal)?.rps_median,
      },
      scenarios: rows,
      session_scaling: scaling,
      shard_scaling: shards,
      streaming_first_byte: ttft,
      failed_requests_total:
        rows.reduce((n, r) => n + r.sequential.failures + (r.loaded?.failures ?? 0), 0) +
        [...scaling, ...shards].reduce((n, s) => n + s.failures, 0) +
        ttft.reduce((n, t) => n + t.failures, 0),
      notes,
    };

    const base = (row: Row) =>
      row.name.startsWith("router r=3")
        ? second
        : row.name.startsWith("gateway")
          ? must(names.r1v3)
          : row.name.startsWith("GET") || row.name.startsWith("floor: GET")
            ? undefined
            : direct;
    console.log(
      `\nsequential: ${SEQUENTIAL} requests; loaded: ${LOAD_SECONDS} s over ${CONNECTIONS} connections for the compared targets (miner, Portkey, router v1 and v3, floor /task and /task-wal; order rotated each round), ${SIDE_SECONDS} s for the others; each loaded scenario warmed first until two ${WARM.windowSeconds} s windows' req/s agree within ${WARM.tolerance * 100}% (at most ${WARM.maxSeconds} s); loopback; the median of ${ROUNDS} round(s) by p50\n`,
    );
    console.log(
      table(
        [
          "scenario",
          "p50 ms",
          "rounds' p50",
          "p99 ms",
          "added p50",
          `req/s @${CONNECTIONS}`,
          `p50 @${CONNECTIONS}`,
          "failed",
          "CPU ms/task",
          "R2 service CPU ms/task (not counted)",
          "warm-up s a round (✓ settled)",
          `busiest object, req/s @${CONNECTIONS}`,
        ],
        rows.map((r) => {
          const b = base(r);
          return [
            r.name,
            r.sequential.p50,
            r.p50_rounds?.join(" / "),
            r.sequential.p99,
            b && b !== r ? added(r, b) : undefined,
            // The rounds' medians, as the targets read them (the other columns are the median round's by sequential p50).
            r.rps_median ?? r.loaded?.rps,
            r.loaded?.p50,
            r.sequential.failures + (r.loaded?.failures ?? 0),
            r.cpu_median ?? r.cpu_ms_per_task,
            r.r2_service_cpu_median ?? r.r2_service_cpu_ms_per_task,
            r.warm_up_rounds?.map((w) => `${w.seconds}${w.settled ? "✓" : "✗"}`).join(" / "),
            r.busiest_object ? `${r.busiest_object.object}: ${r.busiest_object.rps}` : undefined,
          ];
        }),
      ),
    );
    console.log(
      "\n(added p50: over the miner called directly; r=3 over its quorum's miner, the 40 ms one; the gateway over the router path its local pool calls, r=1 on v3; req/s @16 and CPU: the medians of the rounds, as the targets read them; the other figures: the median round by sequential p50)",
    );
    console.log(`(CPU ms/task: the router's, ${cpuScope(mf)}${floor ? `; the floor's, ${cpuScope(floor)}` : ""})`);
    console.log(`\nredundancy-1 sessions sharing ${CONNECTIONS} connections (${SERIES_SECONDS} s a round, ${ROUNDS} rounds), Miniflare\n`);
    console.log(
      table(
        ["sessions", ...seriesHeader, "req/s per session"],
        scaling.map((s) => [s.sessions, ...seriesCells({ ...s, n: s.sessions }), s.rps_per_session]),
      ),
    );
    printShards(shards);
    console.log(`\nstreaming, time to first token (${Math.min(SEQUENTIAL, 100)} sequential)\n`);
    console.log(
      table(
        ["scenario", "p50 ms", "p99 ms", "failed"],
        ttft.map((t) => [t.name, t.p50, t.p99, t.failures]),
      ),
    );
    console.log(
      `\nrouter r=1 adds ${summary.added_p50_ms.router_r1_miniflare} ms at p50 on Miniflare` +
        (summary.added_p50_ms.portkey !== undefined ? `, Portkey ${summary.added_p50_ms.portkey} ms: ratio ${summary.router_to_portkey_added_ratio}` : "") +
        `; bare ping p50 ${pingMf.sequential.p50} ms (Miniflare)${pingW ? `, ${pingW.sequential.p50} ms (wrangler dev)` : ""}; failed requests in all: ${summary.failed_requests_total}`,
    );
    for (const r of rows) if (r.first_failure) console.log(`  first failure, ${r.name}: ${r.first_failure}`);
    for (const s of scaling) if (s.first_failure) console.log(`  first failure, ${s.sessions} sessions: ${s.first_failure}`);
    for (const s of shards) if (s.first_failure) console.log(`  first failure, ${s.n} shard(s): ${s.first_failure}`);
    for (const t of ttft) if (t.first_failure) console.log(`  first failure, ${t.name}: ${t.first_failure}`);
    for (const n of notes) console.log(`  note: ${n}`);
    const signing = await printSigningCosts();
    const metering = printMeteringCosts();
    const chainGas = await printChainGas();
    const floorTask = find(names.floorTask);
    const floorTaskR2 = find(names.floorTaskR2);
    const r1v3 = find(names.r1v3);
    const figures: TargetFigures = {
      routerAddedP50: summary.added_p50_ms.router_r1_miniflare,
      portkeyAddedP50: summary.added_p50_ms.portkey,
      floorTaskAddedP50: summary.floor.task_added_p50_ms,
      // Throughput and CPU: the median over the rounds of each (latency: the median round's, above).
      routerRps: r1.rps_median,
      floorTaskRps: floorTask?.rps_median,
      routerCpuMs: r1.cpu_median,
      gatewayPathCpuMs: r1v3?.cpu_median,
      // The Session object's check of one result's signature, as signing.ts names it.
      signedResultCheckMs: signing.find((c) => /checks? one result/i.test(c.what))?.ms,
    };
    const targets = judgeTargets(figures, CONNECTIONS);
    printTargets(targets);
    console.log(
      `(CPU a task, the loaded phase alone, not judged: the router r=1 ${r1.cpu_loaded_median ?? "not measured"} ms, v3 ${r1v3?.cpu_loaded_median ?? "not measured"} ms, ` +
        `the floor's /task ${floorTask?.cpu_loaded_median ?? "not measured"} ms; the targets read both phases, ${SEQUENTIAL} sequential tasks and the loaded ones)`,
    );
    // R2 is served by a separate workerd (runtimes.ts), so the floor's /task-r2 − /task is what its two puts cost as binding
    // calls in the measured workerd, beside what the router's v3 costs over v1; the R2 service's own CPU is printed apart.
    const r2Puts = floorTask?.cpu_median !== undefined && floorTaskR2?.cpu_median !== undefined ? round(floorTaskR2.cpu_median - floorTask.cpu_median) : undefined;
    const v3OverV1 = r1v3?.cpu_median !== undefined && r1.cpu_median !== undefined ? round(r1v3.cpu_median - r1.cpu_median) : undefined;
    console.log(
      `\nCPU a task: the floor's two R2 puts as binding calls (/task-r2 − /task) ${r2Puts ?? "not measured"} ms; the router's v3 over v1 ${v3OverV1 ?? "not measured"} ms` +
        `; the R2 service's own (not counted): ${r1v3?.r2_service_cpu_ms_per_task ?? "–"} ms a router v3 task, ${floorTaskR2?.r2_service_cpu_ms_per_task ?? "–"} ms a floor /task-r2`,
    );
    const reference = judgeAgainstWriteAheadFloor(figures, {
      addedP50: summary.floor.task_written_ahead_added_p50_ms,
      rps: summary.floor.task_written_ahead_rps,
      cpuMs: summary.floor.task_written_ahead_cpu_ms,
    });
    console.log("");
    for (const r of reference) printReference(r);
    console.log(
      `\n${JSON.stringify({ ...summary, r2_service: "separate workerd, its CPU not counted", floor_r2_puts_cpu_ms: r2Puts, router_v3_over_v1_cpu_ms: v3OverV1, signing, metering, chain_gas: chainGas, targets, reference })}`,
    );
  }
} finally {
  await stopAll();
}
