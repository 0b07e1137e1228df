import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { registryStub } from "../domain/objects/stubs";
import { z } from "zod";
import { MinerPublicSchema } from "../domain/schemas/miner";
import { NO_PROBATION_LIMIT, probationRoom } from "../domain/miners/probation";
import { selectMiners } from "../domain/miners/select-miners";
import { admin, call, createSession, fleet, minersFor, mulberry32, uniq, until } from "./helpers";
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

  it("a miner admitted on probation (the join route's registration) is never listed as established", async () => {
    const id = uniq("joined");
    const joined = await registryStub(env).registerMiner(
      { id, url: fleet().fastA.url, credential: fleet().fastA.token, models: [uniq("model")], max_concurrency: 4, offchain: false, protocol: "openai", payout_account: null },
      undefined,
      { probation: true },
    );
    expect("refused" in joined).toBe(false);
    expect((await listed(id))?.probation).toEqual({ on_probation: true, agreeing_results_needed: PROBATION_RESULTS });
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

describe("probation in selection (the plain rule the pools apply)", () => {
  const miner = (id: string, probation: boolean) => ({ id, url: `http://${id}.test`, reputation: 0.8, inFlight: 0, maxConcurrency: 4, probation });
  const established = ["e1", "e2", "e3"].map((id) => miner(id, false));
  const probationary = ["p1", "p2", "p3"].map((id) => miner(id, true));

  it("fills a redundancy-5 task with at most two probationary miners, whatever the draw", () => {
    const random = mulberry32(7);
    for (let i = 0; i < 200; i++) {
      const picked = selectMiners([...established, ...probationary], 5, random, "reputation", [], probationRoom(5, []));
      expect(picked).toHaveLength(5);
      expect(picked.filter((m) => m.probation).length).toBeLessThanOrEqual(2);
    }
  });

  it("keeps a probationary miner beside an established one: one established miner takes one probationary, none takes none", () => {
    const random = mulberry32(8);
    for (let i = 0; i < 50; i++) {
      const one = selectMiners([established[0]!, ...probationary], 5, random, "reputation", [], probationRoom(5, []));
      expect(one.map((m) => m.id)).toContain("e1");
      expect(one.filter((m) => m.probation)).toHaveLength(1);
      expect(selectMiners(probationary, 3, random, "reputation", [], probationRoom(3, []))).toEqual([]);
    }
    // Outside a task (no room given) nothing is held back.
    expect(selectMiners(probationary, 3, random)).toHaveLength(3);
    expect(NO_PROBATION_LIMIT.seats).toBe(Number.POSITIVE_INFINITY);
  });

  it("a replacement keeps the rule: a failed probationary slot still holds its seat, a failed established one stands beside nobody", () => {
    const random = mulberry32(9);
    const afterProbationFailed = probationRoom(3, [
      { probation: false, ended: false },
      { probation: true, ended: true },
    ]);
    expect(afterProbationFailed).toEqual({ seats: 0, spareEstablished: 0 });
    const afterEstablishedFailed = probationRoom(5, [
      { probation: false, ended: true },
      { probation: true, ended: false },
    ]);
    for (let i = 0; i < 50; i++) {
      expect(selectMiners([...probationary, established[0]!], 1, random, "reputation", [], afterProbationFailed).map((m) => m.id)).toEqual(["e1"]);
      // One probationary miner left with no live established one: a probationary replacement would stand alone.
      expect(selectMiners(probationary, 1, random, "reputation", [], afterEstablishedFailed)).toEqual([]);
    }
  });
});
