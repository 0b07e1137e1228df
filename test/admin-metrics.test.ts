import { describe, expect, it } from "vitest";
import { admin, call, createSession, minersFor } from "./helpers";
import { DeploymentMetricsSchema } from "../domain/schemas/metrics";
import { percentile, seriesWindow } from "../workers/sessions/deployment-series";
import { binUpperEdge, latencyBin } from "../durable-objects/session/task-series";

const metrics = async (window: "hour" | "day") => {
  const res = await admin(`/api/v1/admin/metrics?window=${window}`, "GET");
  expect(res.status).toBe(200);
  return DeploymentMetricsSchema.parse(await res.json());
};

/** GET /api/v1/admin/metrics: the console's overview, read from the sessions' stored tasks. */
describe("deployment metrics", () => {
  it("counts new tasks, disagreeing results, failures by code and latency in the window's buckets", async () => {
    const before = await metrics("hour");
    const byzantine = await minersFor(["wrong", "fastA", "fastB"]);
    const session = await createSession({ model: byzantine.model, redundancy: 3, commit_policy: "all" });
    expect((await call(`/api/v1/completions/${session}`, { method: "POST", json: { prompt: "count me" } })).status).toBe(200);
    const broken = await minersFor(["failing"]);
    const failing = await createSession({ model: broken.model, redundancy: 1 });
    const failed = await call(`/api/v1/completions/${failing}`, { method: "POST", json: { prompt: "fail me" } });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    const code = ((await failed.json()) as { error: { code: string } }).error.code;

    const after = await metrics("hour");
    expect(after.buckets).toHaveLength(60);
    expect(after.bucket_s).toBe(60);
    expect(after.totals.tasks).toBeGreaterThanOrEqual(before.totals.tasks + 2);
    expect(after.buckets.reduce((n, b) => n + b.tasks, 0)).toBe(after.totals.tasks);
    expect(after.totals.results_disagreed).toBeGreaterThanOrEqual(before.totals.results_disagreed + 1);
    expect(after.totals.results_agreed).toBeGreaterThanOrEqual(before.totals.results_agreed + 2);
    expect(after.totals.failed).toBeGreaterThanOrEqual(before.totals.failed + 1);
    const count = (m: typeof before) => m.errors.find((e) => e.code === code)?.count ?? 0;
    expect(count(after)).toBeGreaterThanOrEqual(count(before) + 1);
    expect(after.buckets.reduce((n, b) => n + (b.errors[code] ?? 0), 0)).toBe(count(after));
    expect(after.totals.p50_ms).toBeGreaterThan(0);
    expect(after.totals.p99_ms).toBeGreaterThanOrEqual(after.totals.p50_ms ?? 0);
    expect(after.miners.total).toBeGreaterThanOrEqual(4);
    expect(after.sessions.total).toBeGreaterThanOrEqual(2);
  });

  it("answers a day in 96 buckets of 15 minutes", async () => {
    const day = await metrics("day");
    expect(day.bucket_s).toBe(900);
    expect(day.buckets).toHaveLength(96);
    expect(Date.parse(day.to) - Date.parse(day.from)).toBe(96 * 900_000);
  });

  it("refuses an unknown window, naming it, and a router key", async () => {
    const bad = await admin("/api/v1/admin/metrics?window=week", "GET");
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain("window");
    expect((await call("/api/v1/admin/metrics")).status).toBe(401);
  });
});

describe("the latency histogram", () => {
  it("reads a percentile as the upper edge of the bin holding its rank", () => {
    const histogram: Record<number, number> = {};
    for (const ms of [10, 10, 10, 10, 10, 10, 10, 10, 10, 1000]) histogram[latencyBin(ms)] = (histogram[latencyBin(ms)] ?? 0) + 1;
    expect(percentile(histogram, 0.5)).toBe(binUpperEdge(latencyBin(10)));
    expect(percentile(histogram, 0.99)).toBe(binUpperEdge(latencyBin(1000)));
    expect(percentile({}, 0.5)).toBeNull();
    // Every latency is at most its bin's upper edge and more than the edge below, within 25 %.
    for (const ms of [2, 37, 999, 60_000]) {
      expect(binUpperEdge(latencyBin(ms))).toBeGreaterThanOrEqual(ms);
      expect(binUpperEdge(latencyBin(ms))).toBeLessThanOrEqual(Math.ceil(ms * 1.25));
    }
  });

  it("ends the window with the bucket now falls in", () => {
    const w = seriesWindow("hour", Date.UTC(2026, 0, 1, 12, 30, 15));
    expect(w.from + (w.buckets - 1) * w.bucketMs).toBe(Date.UTC(2026, 0, 1, 12, 30));
  });
});
