import { describe, expect, it } from "vitest";
import { z } from "zod";
import { MinerPublicSchema } from "../workers/schemas/miner";
import { admin, call, createSession, fleet, minersFor, uniq, until } from "./helpers";
import { flushReports } from "./report-flush";
import { complete, recordOf } from "./adversarial/support";

/** The default of MINER_PROBATION_RESULTS (the test configuration leaves it unset). */
const PROBATION_RESULTS = 5;

const MinerList = z.object({ miners: z.array(MinerPublicSchema) });

async function listed(id: string | undefined) {
  const res = await call("/api/v1/miners");
  expect(res.status).toBe(200);
  return MinerList.parse(await res.json()).miners.find((m) => m.id === id);
}

describe("probation: the operator's switch and the listing", () => {
  it("a registered miner is established; PATCH probation puts it on probation with MINER_PROBATION_RESULTS to go, and releases it", async () => {
    const { ids } = await minersFor(["fastA"]);
    expect((await listed(ids.fastA))?.probation).toEqual({ on_probation: false, agreeing_results_needed: 0 });
    const on = await admin(`/api/v1/admin/miners/${ids.fastA}`, "PATCH", { probation: true });
    expect(on.status).toBe(200);
    expect(MinerPublicSchema.parse(await on.json()).probation).toEqual({ on_probation: true, agreeing_results_needed: PROBATION_RESULTS });
    expect((await listed(ids.fastA))?.probation).toEqual({ on_probation: true, agreeing_results_needed: PROBATION_RESULTS });
    const off = await admin(`/api/v1/admin/miners/${ids.fastA}`, "PATCH", { probation: false });
    expect(MinerPublicSchema.parse(await off.json()).probation).toEqual({ on_probation: false, agreeing_results_needed: 0 });
  });

  it("refuses a probation that is not a boolean, naming the field, and changes nothing", async () => {
    const { ids } = await minersFor(["fastA"]);
    const res = await admin(`/api/v1/admin/miners/${ids.fastA}`, "PATCH", { probation: "yes", name: "renamed" });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toMatch(/probation/);
    expect(await listed(ids.fastA)).toMatchObject({ name: ids.fastA, probation: { on_probation: false } });
  });
});

describe("leaving probation", () => {
  it("after MINER_PROBATION_RESULTS agreeing results, counted down in the listing", async () => {
    const { model, ids } = await minersFor(["fastA", "fastB", "spare"]);
    expect((await admin(`/api/v1/admin/miners/${ids.spare}`, "PATCH", { probation: true })).status).toBe(200);
    const sessionId = await createSession({ model, redundancy: 3, commit_policy: "all" });
    for (let i = 0; i < PROBATION_RESULTS - 1; i++) {
      const { body } = await complete(sessionId, { prompt: uniq("agree") });
      expect(recordOf(body, ids.spare)).toMatchObject({ probation: true, agreed: true });
    }
    const counting = await until(async () => {
      await flushReports(sessionId);
      const m = await listed(ids.spare);
      return m && m.stats.agreed === PROBATION_RESULTS - 1 && m;
    });
    expect(counting.probation).toEqual({ on_probation: true, agreeing_results_needed: 1 });
    // The last one it needs: from the next snapshot on it is an established miner.
    const { body } = await complete(sessionId, { prompt: uniq("agree") });
    expect(recordOf(body, ids.spare)).toMatchObject({ probation: true, agreed: true });
    const established = await until(async () => {
      await flushReports(sessionId);
      const m = await listed(ids.spare);
      return m && m.stats.agreed === PROBATION_RESULTS && m;
    });
    expect(established.probation).toEqual({ on_probation: false, agreeing_results_needed: 0 });
    const fresh = await createSession({ model, redundancy: 3 });
    const { body: after } = await complete(fresh, { prompt: uniq("established") });
    expect(recordOf(after, ids.spare).probation).toBeUndefined();
  });

  it("not while it disagrees: a disagreeing result starts the count again", async () => {
    const { model, ids } = await minersFor(["fastA", "fastB", "spare"]);
    expect((await admin(`/api/v1/admin/miners/${ids.spare}`, "PATCH", { probation: true })).status).toBe(200);
    const sessionId = await createSession({ model, redundancy: 3, commit_policy: "all" });
    for (let i = 0; i < 2; i++) expect(recordOf((await complete(sessionId, { prompt: uniq("agree") })).body, ids.spare).agreed).toBe(true);
    const counted = await until(async () => {
      await flushReports(sessionId);
      const m = await listed(ids.spare);
      return m && m.stats.agreed === 2 && m;
    });
    expect(counted.probation.agreeing_results_needed).toBe(PROBATION_RESULTS - 2);
    // The same miner now answers from a server that lies (the fleet's "wrong" miner): one disagreement.
    expect((await admin(`/api/v1/admin/miners/${ids.spare}`, "PATCH", { url: fleet().wrong.url, credential: fleet().wrong.token })).status).toBe(200);
    const fresh = await createSession({ model, redundancy: 3, commit_policy: "all" });
    expect(recordOf((await complete(fresh, { prompt: uniq("disagree") })).body, ids.spare)).toMatchObject({ probation: true, agreed: false });
    const reset = await until(async () => {
      await flushReports(fresh);
      const m = await listed(ids.spare);
      return m && m.stats.disagreed === 1 && m;
    });
    expect(reset.probation).toEqual({ on_probation: true, agreeing_results_needed: PROBATION_RESULTS });
  });
});
