import { describe, expect, it } from "vitest";
import { z } from "zod";
import { TEST_ADMIN_KEY, TEST_ROUTER_KEY } from "./keys";
import { call, createSession, fetchWorker, minersFor } from "./helpers";

/**
 * Issue 12: the bench finds the busiest Durable Object from these counts
 * (OBJECT_TRAFFIC_METER), so they must count every call by object name.
 */
const Traffic = z.object({ enabled: z.boolean(), note: z.string(), since: z.string().nullable(), objects: z.array(z.object({ object: z.string(), calls: z.number() })) });
const METER = { OBJECT_TRAFFIC_METER: "true" };

async function traffic(vars: Record<string, string> = METER) {
  const { response } = await fetchWorker(new Request("http://router.test/api/v1/admin/object-traffic", { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } }), vars);
  expect(response.status).toBe(200);
  const body = Traffic.parse(await response.json());
  return { ...body, calls: (object: string) => body.objects.find((o) => o.object === object)?.calls ?? 0 };
}

const metered = async (path: string, init: RequestInit = {}) =>
  (
    await fetchWorker(
      new Request(`http://router.test${path}`, { ...init, headers: { authorization: `Bearer ${TEST_ROUTER_KEY}`, "content-type": "application/json", ...init.headers } }),
      METER,
    )
  ).response;

describe("object traffic meter", () => {
  it("counts each call by object name: one Session object call a task, one registry call a miner listing", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model, redundancy: 1 });
    const before = await traffic();
    expect(before.enabled).toBe(true);

    for (let i = 0; i < 5; i++) {
      expect((await metered(`/api/v1/completions/${sessionId}`, { method: "POST", body: JSON.stringify({ prompt: `metered ${i}` }) })).status).toBe(200);
    }
    expect((await metered("/api/v1/miners")).status).toBe(200);
    const after = await traffic();

    expect(after.calls(`session:${sessionId}`) - before.calls(`session:${sessionId}`)).toBe(5);
    expect(after.calls("registry") - before.calls("registry")).toBeGreaterThanOrEqual(1);
    // Busiest first.
    const calls = after.objects.map((o) => o.calls);
    expect(calls).toEqual([...calls].sort((a, b) => b - a));
  });

  it("says plainly that nothing is counted when the meter is off", async () => {
    expect(await traffic({ OBJECT_TRAFFIC_METER: "false" })).toMatchObject({ enabled: false, since: null, objects: [] });
  });

  it("is for the admin only", async () => {
    expect((await call("/api/v1/admin/object-traffic")).status).toBe(401);
  });
});
