/**
 * A throughput series: the same load, for a stretch of time, at each of
 * several counts (sessions, a session's shards), the counts alternating over
 * rounds so that a shared machine's drift spreads over all; each count is
 * reported by its median round by requests per second, failures added up
 * over the rounds. Each count's target is warmed until steady before its
 * first round; later rounds open it with a few requests.
 */
import { availableParallelism } from "node:os";
import { cpuMs, machineCoresBusy, machineTicks, workerdBelow } from "./cpu.ts";
import { load, loadFor, round, type Send, stats } from "./load.ts";
import { type Busiest, busiest, objectCounts } from "./object-traffic.ts";

export type SeriesPoint = {
  n: number;
  rps: number;
  rps_rounds: number[];
  p50: number;
  failures: number;
  cpu_ms_per_task?: number;
  cores_busy?: number;
  machine_cores_busy: number;
  /** The Durable Object that took the most calls, and how many a second. */
  busiest_object?: Busiest;
  first_failure?: string;
};

type Measured = { rps: number; p50: number; failures: number; machine: number; cpu?: number; cores?: number; top?: Busiest; failure?: string };

export async function runSeries(options: {
  label: string;
  counts: readonly number[];
  sendFor: (n: number) => Send;
  rounds: number;
  /** Seconds of load a count a round. */
  seconds: number;
  connections: number;
  /** The warm-up before a count's first round (the bench's until-steady warm-up). */
  warmUp: (send: Send) => Promise<{ failures: number; firstFailure?: string }>;
  /** The runtime's supervisor: workerd's CPU is read below it. */
  runtimePid: number;
  /** The router's origin, for its count of calls by Durable Object (OBJECT_TRAFFIC_METER). */
  origin: string;
}): Promise<SeriesPoint[]> {
  const measured = new Map<number, Measured[]>();
  for (let r = 0; r < options.rounds; r++) {
    for (const n of options.counts) {
      const send = options.sendFor(n);
      const warmed = r === 0 ? await options.warmUp(send) : await load(send, 4 * n, 1, 60);
      const pids = workerdBelow(options.runtimePid);
      const before = cpuMs(pids);
      const machineBefore = machineTicks();
      const countsBefore = await objectCounts(options.origin);
      const run = await loadFor(send, options.seconds, options.connections);
      const top = busiest(countsBefore, await objectCounts(options.origin), run.seconds);
      const s = stats(run);
      const cpu = cpuMs(pids) - before;
      const machine = round(machineCoresBusy(machineBefore, machineTicks(), availableParallelism()));
      const failure = warmed.firstFailure ?? run.firstFailure;
      measured.set(n, [
        ...(measured.get(n) ?? []),
        {
          rps: s.rps,
          p50: s.p50,
          failures: s.failures + warmed.failures,
          machine,
          ...(pids.length > 0 ? { cpu: round(cpu / Math.max(1, s.requests)), cores: round(cpu / 1000 / run.seconds) } : {}),
          ...(top ? { top } : {}),
          ...(failure ? { failure } : {}),
        },
      ]);
      console.error(`  round ${r + 1}, ${n} ${options.label}: ${s.rps} req/s${failure ? `, FAILED: ${failure}` : ""}`);
    }
  }
  return options.counts.map((n) => {
    const runs = measured.get(n) ?? [];
    const median = [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)];
    const failure = runs.find((r) => r.failure)?.failure;
    return {
      n,
      rps: median?.rps ?? Number.NaN,
      rps_rounds: runs.map((r) => r.rps),
      p50: median?.p50 ?? Number.NaN,
      failures: runs.reduce((sum, r) => sum + r.failures, 0),
      machine_cores_busy: median?.machine ?? Number.NaN,
      ...(median?.cpu !== undefined ? { cpu_ms_per_task: median.cpu } : {}),
      ...(median?.cores !== undefined ? { cores_busy: median.cores } : {}),
      ...(median?.top ? { busiest_object: median.top } : {}),
      ...(failure ? { first_failure: failure } : {}),
    };
  });
}

/** The series' table columns after the count's own. */
export const seriesHeader = [
  "req/s (median)",
  "rounds' req/s",
  "p50 ms",
  "failed",
  "CPU ms/task",
  "workerd cores busy",
  `machine cores busy (of ${availableParallelism()})`,
  "busiest object, req/s",
];
export const seriesCells = (p: SeriesPoint) => [
  p.rps,
  p.rps_rounds.join(" / "),
  p.p50,
  p.failures,
  p.cpu_ms_per_task,
  p.cores_busy,
  p.machine_cores_busy,
  p.busiest_object ? `${p.busiest_object.object}: ${p.busiest_object.rps}` : undefined,
];
