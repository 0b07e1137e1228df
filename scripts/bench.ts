/**
 * `npm run bench`: in one run on loopback,
 *  1. router overhead: the same completion sent straight to a zero-latency
 *     dev miner, and through the router (redundancy 1) to that miner;
 *  2. redundancy 3 against miners answering in 20, 40 and 80 ms: the router's
 *     latency next to direct calls to the second-fastest and the slowest.
 * Prints a table (p50, p99, requests per second) and a final JSON line.
 */
import { rmSync } from "node:fs";
import { startDevMiner } from "../tools/dev-miner/server.ts";
import { DEV_ADMIN_TOKEN, DEV_ROUTER_TOKEN } from "../workers/config/dev-credentials.ts";
import { startLocalRouter } from "./local-router.ts";
import { provision } from "./provision.ts";

const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 300);
const CONCURRENCY = Number(process.env["BENCH_CONCURRENCY"] ?? 8);
const PORT = Number(process.env["BENCH_PORT"] ?? 5110);
const STATE = ".bench/state";

type Result = { name: string; requests: number; errors: number; p50: number; p99: number; mean: number; rps: number };

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const round = (x: number) => Math.round(x * 100) / 100;

async function measure(name: string, send: (i: number) => Promise<Response>): Promise<Result> {
  // Warm-up: connections, isolates, Durable Objects.
  for (let i = 0; i < 10; i++) await (await send(-1 - i)).arrayBuffer();
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        const i = next++;
        const t0 = performance.now();
        const res = await send(i);
        await res.arrayBuffer();
        latencies.push(performance.now() - t0);
        if (!res.ok) errors++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    requests: latencies.length,
    errors,
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
    mean: round(latencies.reduce((a, b) => a + b, 0) / latencies.length),
    rps: round(latencies.length / seconds),
  };
}

const body = (i: number) => JSON.stringify({ prompt: `Benchmark prompt ${i % 50}`, max_tokens: 32 });

const direct = (url: string, token: string) => (i: number) =>
  fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "bench", prompt: `Benchmark prompt ${i % 50}`, max_tokens: 32 }),
  });

const viaRouter = (origin: string, sessionId: number) => (i: number) =>
  fetch(`${origin}/api/v1/completions/${sessionId}`, {
    method: "POST",
    headers: { authorization: `Bearer ${DEV_ROUTER_TOKEN}`, "content-type": "application/json" },
    body: body(i),
  });

rmSync(STATE, { recursive: true, force: true });
const zero = await startDevMiner({ name: "bench-zero", token: "t0", models: ["bench", "bench-zero"] });
const tiered = await Promise.all(
  [20, 40, 80].map((latencyMs) => startDevMiner({ name: `bench-${latencyMs}ms`, token: `t${latencyMs}`, latencyMs, models: ["bench", "bench-r3"] })),
);
const router = await startLocalRouter({ port: PORT, persistTo: STATE });
try {
  await provision({
    origin: router.origin,
    adminKey: DEV_ADMIN_TOKEN,
    miners: [
      { id: "bench-zero", url: zero.url, credential: "t0", models: ["bench-zero"], max_concurrency: 256 },
      ...tiered.map((m, i) => ({ id: m.name, url: m.url, credential: `t${[20, 40, 80][i]}`, models: ["bench-r3"], max_concurrency: 256 })),
    ],
    sessions: [
      { id: 1, name: "bench redundancy 1", model: "bench-zero", redundancy: 1 },
      { id: 3, name: "bench redundancy 3", model: "bench-r3", redundancy: 3 },
    ],
  });

  const results: Result[] = [];
  results.push(await measure("miner direct (0 ms)", direct(zero.url, "t0")));
  results.push(await measure("router r=1 (0 ms miner)", viaRouter(router.origin, 1)));
  results.push(await measure("miner direct second-fastest (40 ms)", direct(tiered[1]!.url, "t40")));
  results.push(await measure("miner direct slowest (80 ms)", direct(tiered[2]!.url, "t80")));
  results.push(await measure("router r=3 (20/40/80 ms miners)", viaRouter(router.origin, 3)));

  const [minerZero, routerOne, second, slowest, routerThree] = results as [Result, Result, Result, Result, Result];
  const summary = {
    requests_per_scenario: REQUESTS,
    concurrency: CONCURRENCY,
    router_overhead_ms: { p50: round(routerOne.p50 - minerZero.p50), p99: round(routerOne.p99 - minerZero.p99) },
    r3_vs_second_fastest_ms: { p50: round(routerThree.p50 - second.p50), p99: round(routerThree.p99 - second.p99) },
    r3_vs_slowest_ms: { p50: round(routerThree.p50 - slowest.p50), p99: round(routerThree.p99 - slowest.p99) },
    scenarios: results,
  };

  const header = ["scenario", "requests", "errors", "p50 ms", "p99 ms", "mean ms", "req/s"];
  const rows = results.map((r) => [r.name, r.requests, r.errors, r.p50, r.p99, r.mean, r.rps].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(`\n${REQUESTS} requests per scenario, ${CONCURRENCY} concurrent, loopback, router on wrangler dev (workerd)\n`);
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
  console.log(
    `\nrouter overhead p50 ${summary.router_overhead_ms.p50} ms, p99 ${summary.router_overhead_ms.p99} ms; ` +
      `r=3 minus second-fastest p50 ${summary.r3_vs_second_fastest_ms.p50} ms; r=3 minus slowest p50 ${summary.r3_vs_slowest_ms.p50} ms\n`,
  );
  console.log(JSON.stringify(summary));
} finally {
  await router.stop();
  await Promise.all([zero, ...tiered].map((m) => m.close()));
}
