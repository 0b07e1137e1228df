/**
 * The bench's judgement of issue 27's targets (scripts/bench/targets.ts) and its
 * warm-up until steady (scripts/bench/load.ts), against a real local HTTP server.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { steady, warmUntilSteady } from "../../scripts/bench/load.ts";
import { judgeAgainstWriteAheadFloor, judgeTargets, verdict } from "../../scripts/bench/targets.ts";

describe("issue 27's targets", () => {
  const figures = {
    routerAddedP50: 3,
    portkeyAddedP50: 2.5,
    floorTaskAddedP50: 2.2,
    routerRps: 600,
    floorTaskRps: 700,
    routerCpuMs: 1.9,
    gatewayPathCpuMs: 3.1,
    signedResultCheckMs: 0.4,
  };

  it("holds each figure to its limit, limits from the same run's other figures", () => {
    const targets = judgeTargets(figures, 16);
    expect(targets.map((t) => [t.measured, t.limit, verdict(t)])).toEqual([
      [3, 2.5, "NOT MET"], // router over Portkey
      [3, 3.2, "MET"], // floor + 1 ms
      [600, 560, "MET"], // 0.8 × the floor's req/s
      [1.9, 2, "MET"],
      [0.4, 0.5, "MET"],
      [3.1, 2.9, "NOT MET"], // r=1 CPU + 1 ms
    ]);
    expect(targets[2]?.target).toContain("16 connections");
    expect(targets.map((t) => t.id)).toEqual(["added_p50_vs_portkey", "added_p50_vs_floor", "rps_vs_floor", "cpu_per_task_r1", "signed_result_check", "gateway_path_cpu"]);
  });

  it("says a target is not measured when a figure is missing, rather than met or not", () => {
    const { portkeyAddedP50: _, signedResultCheckMs: __, ...withoutPortkey } = figures;
    const targets = judgeTargets({ ...withoutPortkey, floorTaskRps: Number.NaN }, 16);
    expect(targets.map(verdict)).toEqual(["not measured", "MET", "not measured", "MET", "not measured", "NOT MET"]);
    expect(targets[0]?.limit).toBeUndefined();
    expect(targets[0]?.measured).toBe(3);
  });

  it("the router against the written-ahead floor: the targets' limits on that floor's figures, unmeasured without them", () => {
    const against = judgeAgainstWriteAheadFloor(figures, { addedP50: 1.8, rps: 800, cpuMs: 0.8 });
    expect(against.map((t) => [t.measured, t.limit, verdict(t)])).toEqual([
      [3, 2.8, "NOT MET"],
      [600, 640, "NOT MET"],
      [1.9, 1.8, "NOT MET"],
    ]);
    expect(judgeAgainstWriteAheadFloor(figures, { addedP50: 2.5, rps: 700, cpuMs: 1.2 }).map(verdict)).toEqual(["MET", "MET", "MET"]);
    expect(judgeAgainstWriteAheadFloor(figures, {}).map(verdict)).toEqual(["not measured", "not measured", "not measured"]);
  });
});

describe("warm-up until steady", () => {
  it("two windows agree within the tolerance of the larger, and an empty window never agrees", () => {
    expect(steady(100, 104, 0.05)).toBe(true);
    expect(steady(100, 106, 0.05)).toBe(false);
    expect(steady(106, 100, 0.05)).toBe(false);
    expect(steady(0, 0, 0.05)).toBe(false);
  });

  let failing: Server;
  let origin: string;
  beforeAll(async () => {
    failing = createServer((_req, res) => res.writeHead(503).end("not today"));
    await new Promise<void>((resolve) => failing.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => failing.close(() => resolve())));

  it("a target that only fails never settles: the warm-up stops at its cap and says so, its failures counted", async () => {
    const warmed = await warmUntilSteady((_i, signal) => fetch(origin, { signal }), { connections: 2, windowSeconds: 0.2, tolerance: 0.05, maxSeconds: 0.6 });
    expect(warmed.settled).toBe(false);
    expect(warmed.windows.length).toBeGreaterThan(0);
    expect(warmed.windows.every((rps) => rps === 0)).toBe(true);
    expect(warmed.failures).toBeGreaterThan(0);
    expect(warmed.firstFailure).toBe("503 not today");
  });
});
