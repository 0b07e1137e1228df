import { describe, expect, it } from "vitest";
import { z } from "zod";
import { TEST_ADMIN_KEY } from "./keys";
import { call, createSession, fetchWorker, minersFor } from "./helpers";

/**
 * Issue 12: the bench finds the busiest Durable Object from these counts, so
 * they must count every call by object name, and a task's path must show no
 * call to the one registry once its session is warm. vitest.config.ts turns
 * the meter on for every test (so every test also runs through the metered stubs).
 */
const Traffic = z.object({ enabled: z.boolean(), note: z.string(), since: z.string().nullable(), objects: z.array(z.object({ object: z.string(), calls: z.number() })) });

async function traffic(vars: Record<string, string> = {}) {
  const { response } = await fetchWorker(new Request("http://router.test/api/v1/admin/object-traffic", { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } }), vars);
  expect(response.status).toBe(200);
  const body = Traffic.parse(await response.json());
  return { ...body, calls: (object: string) => body.objects.find((o) => o.object === object)?.calls ?? 0 };
}

describe("object traffic meter", () => {
  it("counts each call by object: one Session object call a task, none to the registry once the session is warm", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model, redundancy: 1 });
    const complete = async (prompt: string) => expect((await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt } })).status).toBe(200);
    await complete("cold");

    const before = await traffic();
    expect(before.enabled).toBe(true);
    for (let i = 0; i < 5; i++) await complete(`warm ${i}`);
    const after = await traffic();

    expect(after.calls(`session:${sessionId}`) - before.calls(`session:${sessionId}`)).toBe(5);
    expect(after.calls("registry") - before.calls("registry")).toBe(0);
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
