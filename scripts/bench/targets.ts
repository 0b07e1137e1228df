/**
 * Issue 27's targets, judged on one run's figures: each with the measured
 * figure, the limit it is held to (some limits are other targets' figures in
 * the same run) and MET / NOT MET, or "not measured" when a figure is missing
 * (Portkey left out, a scenario failed, a runtime without /proc).
 */
import { round } from "./load.ts";
import { table } from "./report.ts";

export type TargetFigures = {
  /** Added p50 over the miner called directly, sequential, redundancy 1 on Miniflare. */
  routerAddedP50?: number;
  portkeyAddedP50?: number;
  floorTaskAddedP50?: number;
  /** Requests a second at the bench's connections, one session. */
  routerRps?: number;
  floorTaskRps?: number;
  /** workerd's CPU per task. */
  routerCpuMs?: number;
  /** The v3 route on the gateway's session (its R2 write), the path the gateway's pool calls. */
  gatewayPathCpuMs?: number;
  /** The Session object's check of one result's signature (scripts/bench/signing.ts). */
  signedResultCheckMs?: number;
};

export type Target = {
  /** A stable name for the JSON line. */
  id: string;
  target: string;
  unit: "ms" | "req/s";
  measured?: number;
  /** The figure the measured one is held to: at most it ("≤") or at least it ("≥"). */
  limit?: number;
  compare: "≤" | "≥";
  met?: boolean;
};

function judge(id: string, target: string, unit: Target["unit"], compare: Target["compare"], measured: number | undefined, limit: number | undefined): Target {
  const row: Target = { id, target, unit, compare };
  if (measured !== undefined && Number.isFinite(measured)) row.measured = round(measured);
  if (limit !== undefined && Number.isFinite(limit)) row.limit = round(limit);
  if (row.measured !== undefined && row.limit !== undefined) row.met = compare === "≤" ? row.measured <= row.limit : row.measured >= row.limit;
  return row;
}

const plus = (a: number | undefined, b: number) => (a === undefined ? undefined : a + b);
const times = (a: number | undefined, b: number) => (a === undefined ? undefined : a * b);

export function judgeTargets(f: TargetFigures, connections: number): Target[] {
  return [
    judge("added_p50_vs_portkey", "router added p50, r=1 sequential ≤ Portkey's added p50 (same run)", "ms", "≤", f.routerAddedP50, f.portkeyAddedP50),
    judge("added_p50_vs_floor", "router added p50, r=1 sequential ≤ floor /task added p50 + 1 ms", "ms", "≤", f.routerAddedP50, plus(f.floorTaskAddedP50, 1)),
    judge("rps_vs_floor", `router req/s, ${connections} connections, one session ≥ 0.8 × floor /task req/s`, "req/s", "≥", f.routerRps, times(f.floorTaskRps, 0.8)),
    judge("cpu_per_task_r1", "router CPU per task, r=1 ≤ 2 ms", "ms", "≤", f.routerCpuMs, 2),
    judge("signed_result_check", "signed result's check ≤ 0.5 ms", "ms", "≤", f.signedResultCheckMs, 0.5),
    judge("gateway_path_cpu", "gateway path (v3, its R2 write) CPU per task ≤ r=1 v1 CPU + 1 ms", "ms", "≤", f.gatewayPathCpuMs, plus(f.routerCpuMs, 1)),
  ];
}

/**
 * Not among the six either: the router against the floor of a task written
 * ahead (floor /task-wal: its row committed before the miner call, its output
 * after, two commits), the least a router costs that keeps its promise that
 * nothing is dispatched twice. The same limits as the targets', on that floor.
 */
export function judgeAgainstWriteAheadFloor(f: TargetFigures, floor: { addedP50?: number | undefined; rps?: number | undefined; cpuMs?: number | undefined }): Target[] {
  return [
    judge("added_p50_vs_written_ahead_floor", "reference: router added p50 ≤ written-ahead floor's + 1 ms", "ms", "≤", f.routerAddedP50, plus(floor.addedP50, 1)),
    judge("rps_vs_written_ahead_floor", "reference: router req/s ≥ 0.8 × written-ahead floor's", "req/s", "≥", f.routerRps, times(floor.rps, 0.8)),
    judge("cpu_vs_written_ahead_floor", "reference: router CPU per task ≤ written-ahead floor's + 1 ms", "ms", "≤", f.routerCpuMs, plus(floor.cpuMs, 1)),
  ];
}

export const verdict = (t: Target) => (t.met === undefined ? "not measured" : t.met ? "MET" : "NOT MET");

export function printTargets(targets: Target[]): void {
  console.log("\nissue 27's targets, this run\n");
  console.log(
    table(
      ["target", "measured", "limit", "met?"],
      targets.map((t) => [
        t.target,
        t.measured === undefined ? undefined : `${t.measured} ${t.unit}`,
        t.limit === undefined ? undefined : `${t.compare} ${t.limit} ${t.unit}`,
        verdict(t),
      ]),
    ),
  );
  const met = targets.filter((t) => t.met === true).length;
  console.log(`\n${met} of ${targets.length} targets met${targets.some((t) => t.met === undefined) ? ` (${targets.filter((t) => t.met === undefined).length} not measured)` : ""}`);
}

/** The reference figure beside the targets, said to be one. */
export function printReference(reference: Target): void {
  console.log(
    `${reference.target}: ${reference.measured ?? "not measured"} ${reference.unit} (limit ${reference.compare} ${reference.limit ?? "?"} ${reference.unit}): ${verdict(reference)} (a reference, not counted above)`,
  );
}
