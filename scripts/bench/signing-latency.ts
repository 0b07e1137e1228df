/**
 * What signed results add to a task end to end: the router's bundle on
 * workerd (Miniflare), three zero-latency dev miners that sign, and the same
 * tasks in sessions with `signatures: "off"` and `"require"` at redundancy 1
 * and 3: sequential p50 and workerd's CPU per task, the median of the rounds.
 * Part of BENCH_ONLY=signing (scripts/bench/signing.ts).
 */
import { rmSync } from "node:fs";
import { DEV_ADMIN_TOKEN, DEV_ROUTER_TOKEN } from "../../domain/config/dev-credentials.ts";
import { startDevMiner } from "../../tools/dev-miner/server.ts";
import { devMinerKey } from "../../tools/dev-miner/sign.ts";
import { provision } from "../provision.ts";
import { cpuMs, workerdBelow } from "./cpu.ts";
import { load, round, stats, warm } from "./load.ts";
import { build, startMiniflare } from "./runtimes.ts";

const SCENARIOS = [
  { session: 41, redundancy: 1, signatures: "off" },
  { session: 42, redundancy: 1, signatures: "require" },
  { session: 43, redundancy: 3, signatures: "off" },
  { session: 44, redundancy: 3, signatures: "require" },
] as const;

export type LatencyRow = { redundancy: number; signatures: string; p50: number; p50_rounds: number[]; cpu_ms_per_task: number; failures: number };

export async function signingLatency(options: { port: number; requests: number; rounds: number; skipBuild: boolean }): Promise<LatencyRow[]> {
  const started: { stop(): Promise<void> }[] = [];
  try {
    if (!options.skipBuild) {
      console.error("building dist/ (npm run build) ...");
      build();
    }
    const miners = await Promise.all(
      [1, 2, 3].map((n) => startDevMiner({ name: `bench-sign-${n}`, token: `ts${n}`, models: ["bench-sign"], signerKey: devMinerKey(`bench-sign-${n}`) })),
    );
    for (const m of miners) started.push({ stop: m.close });
    rmSync(".bench/state-signing", { recursive: true, force: true });
    console.error("starting the router on Miniflare for the signing scenarios ...");
    const mf = await startMiniflare({ port: options.port, persistTo: ".bench/state-signing", vars: { ENVIRONMENT: "development" }, r2: "separate" });
    started.push(mf);
    await provision({
      origin: mf.origin,
      adminKey: DEV_ADMIN_TOKEN,
      miners: miners.map((m, i) => ({
        id: m.name,
        url: m.url,
        credential: `ts${i + 1}`,
        models: ["bench-sign"],
        max_concurrency: 256,
        signer_key: devMinerKey(m.name),
      })),
      sessions: SCENARIOS.map((s) => ({
        id: s.session,
        name: `bench signatures ${s.signatures} r=${s.redundancy}`,
        model: "bench-sign",
        redundancy: s.redundancy,
        signatures: s.signatures,
      })),
    });
    const send = (session: number) => (i: number, signal: AbortSignal) =>
      fetch(`${mf.origin}/api/v1/completions/${session}`, {
        method: "POST",
        signal,
        headers: { "content-type": "application/json", authorization: `Bearer ${DEV_ROUTER_TOKEN}` },
        body: JSON.stringify({ prompt: `Signing benchmark prompt ${((i % 50) + 50) % 50}`, max_tokens: 32 }),
      });
    for (const s of SCENARIOS) await warm(send(s.session));
    const results = new Map<number, { p50: number; cpu: number; failures: number }[]>();
    console.error("measuring the signing scenarios ...");
    for (let r = 0; r < options.rounds; r++) {
      for (const s of SCENARIOS) {
        const pids = workerdBelow(mf.pid);
        const before = cpuMs(pids);
        const run = stats(await load(send(s.session), options.requests, 1));
        const cpu = (cpuMs(pids) - before) / Math.max(1, run.requests - run.failures);
        results.set(s.session, [...(results.get(s.session) ?? []), { p50: run.p50, cpu: round(cpu), failures: run.failures }]);
      }
    }
    return SCENARIOS.map((s) => {
      const rounds = results.get(s.session) ?? [];
      const median = [...rounds].sort((a, b) => a.p50 - b.p50)[Math.floor(rounds.length / 2)] ?? { p50: Number.NaN, cpu: Number.NaN, failures: 0 };
      return {
        redundancy: s.redundancy,
        signatures: s.signatures,
        p50: median.p50,
        p50_rounds: rounds.map((x) => x.p50),
        cpu_ms_per_task: median.cpu,
        failures: rounds.reduce((n, x) => n + x.failures, 0),
      };
    });
  } finally {
    for (const thing of started.reverse()) await thing.stop().catch((err: unknown) => console.error(err));
  }
}
