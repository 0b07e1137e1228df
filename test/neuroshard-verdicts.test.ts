import { describe, expect, it } from "vitest";
import { createSession, fetchWorker, minersFor } from "./helpers";
import { TEST_ROUTER_KEY } from "./keys";

/**
 * The dev NeuroShard miner is a test double of a model behind a NeuroShard
 * node: asked for a verdict object (validate, factcheck), it answers with
 * one, as the OpenAI mode does in JSON mode, so a pool mixing both kinds of
 * miner reaches the verdict the documented examples show, with no RETRY
 * votes from the NeuroShard side.
 */

type Verdict = {
  verdict: string;
  agreement: { runs: number; agreeing: number };
  runs?: { miner: string; verdict: string; parse_error: string | null }[];
  pool?: { replicas: number; session_id: number };
};

async function post(path: string, json: unknown, vars: Record<string, string> = {}) {
  const { response, settled } = await fetchWorker(
    new Request(`http://router.test${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_ROUTER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(json),
    }),
    vars,
  );
  await settled();
  return response;
}

describe("verdicts from NeuroShard miners", () => {
  it("a v3 validate pool of NeuroShard and OpenAI miners agrees on the documented example, no RETRY votes", async () => {
    const { model, ids } = await minersFor(["nsA", "nsB", "fastA"]);
    const session = await createSession({ model, redundancy: 3 });
    const res = await post(
      "/api/v3/validate",
      {
        request_id: "validate-demo-3",
        claim: { type: "technical_summary", description: "Validate whether the output describes router behavior accurately.", output: "Candidate output to validate." },
        consensus: { replicas: 3 },
        policy: { tier: "safe" },
      },
      { V3_SESSION_POOLS: JSON.stringify({ "1": session, "3": session, "5": session }) },
    );
    expect(res.status, await res.clone().text()).toBe(200);
    const v = (await res.json()) as Verdict;
    expect(v).toMatchObject({ verdict: "VALID", pool: { replicas: 3, session_id: session }, agreement: { runs: 3, agreeing: 3 } });
    const byMiner = new Map(v.runs?.map((r) => [r.miner, r]));
    for (const id of [ids.nsA, ids.nsB]) expect(byMiner.get(id!)).toMatchObject({ verdict: "VALID", parse_error: null });
  });

  it("a NeuroShard miner judges a false statement INVALID in factcheck, as the OpenAI mode does", async () => {
    const { model, ids } = await minersFor(["nsA", "nsB", "fastB"]);
    const session = await createSession({ model, redundancy: 3 });
    const res = await post("/api/v1/factcheck", {
      session_id: session,
      mode: "standard",
      claim: { type: "network_roles", statement: "This statement is false." },
      policy: { redundancy: 3 },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const v = (await res.json()) as Verdict;
    expect(v).toMatchObject({ verdict: "INVALID", agreement: { runs: 3, agreeing: 3 } });
    for (const id of [ids.nsA, ids.nsB]) expect(v.runs?.find((r) => r.miner === id)).toMatchObject({ verdict: "INVALID", parse_error: null });
  });
});
