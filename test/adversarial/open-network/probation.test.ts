import { describe, expect, it } from "vitest";
import { privateKeyToAccount } from "viem/accounts";
import { ReceiptSchema } from "../../../domain/receipts/receipt-schema";
import { verifyReceipt } from "../../../domain/receipts/verify-receipt";
import { MinerPublicSchema } from "../../../domain/schemas/miner";
import { admin, call, createSession, minersFor, uniq } from "../../helpers";
import { TEST_ROUTER_SIGNER_KEY } from "../../keys";
import { complete, isOutputOf, recordOf, textOf } from "../support";

/**
 * Issue 25: a miner admitted on probation (a joined miner; here put there by
 * the operator's PATCH `probation: true`, as the join route does) is selected
 * only beside established miners, never holds a majority of one task, and its
 * answer never decides one, however many probationary miners agree on it.
 */

async function onProbation(id: string | undefined) {
  const res = await admin(`/api/v1/admin/miners/${id}`, "PATCH", { probation: true });
  expect(res.status, await res.clone().text()).toBe(200);
  expect(MinerPublicSchema.parse(await res.json()).probation).toMatchObject({ on_probation: true });
}

const probationary = (miners: readonly { probation?: true }[]) => miners.filter((m) => m.probation === true).length;

describe("probationary miners in selection", () => {
  it("never hold a majority at redundancy 3: one established and two probationary miners give tasks of two, one of them probationary", async () => {
    const { model, ids } = await minersFor(["fastA", "fastB", "fastC"]);
    await onProbation(ids.fastB);
    await onProbation(ids.fastC);
    const sessionId = await createSession({ model, redundancy: 3 });
    // Four tasks: fewer than the MINER_PROBATION_RESULTS (5) agreeing results that would establish either of them.
    for (let i = 0; i < 4; i++) {
      const { body } = await complete(sessionId, { prompt: `probation seats ${i}` });
      // floor((3-1)/2) = 1 probationary seat, beside the one established miner.
      expect(body.miners.map((m) => m.miner)).toContain(ids.fastA);
      expect(recordOf(body, ids.fastA).probation).toBeUndefined();
      expect(body.miners).toHaveLength(2);
      expect(probationary(body.miners)).toBe(1);
      expect(await isOutputOf(body, ids.fastA)).toBe(true);
    }
  });

  it("are not selected at redundancy 1 while an established miner serves, and never serve a task alone", async () => {
    const { model, ids } = await minersFor(["fastA", "fastB", "fastC"]);
    await onProbation(ids.fastB);
    await onProbation(ids.fastC);
    const sessionId = await createSession({ model, redundancy: 1 });
    for (let i = 0; i < 10; i++) {
      const { body } = await complete(sessionId, { prompt: `single ${i}` });
      expect(body.miners.map((m) => m.miner)).toEqual([ids.fastA]);
    }
    // The established miner benched: only probationary miners are left, and no task is theirs alone.
    expect((await admin(`/api/v1/admin/miners/${ids.fastA}`, "PATCH", { benched: true })).status).toBe(200);
    // A new session: its pool reads the registry now (a running one sees the bench with its next snapshot).
    const later = await createSession({ model, redundancy: 1 });
    const res = await call(`/api/v1/completions/${later}`, { method: "POST", json: { prompt: "alone?" } });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("no_miners_available");
  });

  it("at redundancy 3 with only probationary miners, refuse the task rather than let them answer it", async () => {
    const { model, ids } = await minersFor(["fastB", "fastC"]);
    await onProbation(ids.fastB);
    await onProbation(ids.fastC);
    const sessionId = await createSession({ model, redundancy: 3 });
    const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "nobody established" } });
    expect(res.status).toBe(503);
  });
});

describe("a probationary miner that lies", () => {
  it("is outvoted at redundancy 3 and marked as on probation in the completion and the receipt", async () => {
    const { model, ids } = await minersFor(["fastA", "fastB", "wrong"]);
    await onProbation(ids.wrong);
    const sessionId = await createSession({ model, redundancy: 3, commit_policy: "all" });
    const { body } = await complete(sessionId, { prompt: uniq("liar") });
    expect(await isOutputOf(body, ids.fastA)).toBe(true);
    expect(recordOf(body, ids.wrong)).toMatchObject({ probation: true, agreed: false });
    const view = (await (await call(`/api/v1/tasks/${sessionId}/${body.task_id}`)).json()) as { assignments: { miner: string; probation: boolean }[] };
    expect(Object.fromEntries(view.assignments.map((a) => [a.miner, a.probation]))).toEqual({
      [ids.fastA as string]: false,
      [ids.fastB as string]: false,
      [ids.wrong as string]: true,
    });
    const receipt = ReceiptSchema.parse(await (await call(`/api/v1/tasks/${sessionId}/${body.task_id}/receipt`)).json());
    expect(receipt.miners.find((m) => m.miner_id === ids.wrong)).toMatchObject({ probation: true, agreed: false });
    expect(receipt.miners.filter((m) => m.probation)).toHaveLength(1);
    const verdict = await verifyReceipt(receipt, { router: privateKeyToAccount(TEST_ROUTER_SIGNER_KEY).address });
    expect(verdict.checks.filter((c) => c.result === "fail")).toEqual([]);
  });

  it("two colluding probationary liars, the largest group of a redundancy-5 task, still do not decide it", async () => {
    // Three established miners that each answer differently (fastA honest, wrong and wrong2 each a wrong text of its own),
    // and two probationary miners that give the same wrong text: by copies alone the colluders would win 2 to 1.
    const { model, ids } = await minersFor(["fastA", "wrong", "wrong2", "colludeA", "colludeB"]);
    await onProbation(ids.colludeA);
    await onProbation(ids.colludeB);
    const sessionId = await createSession({ model, redundancy: 5, commit_policy: "all" });
    for (let i = 0; i < 3; i++) {
      const { body } = await complete(sessionId, { prompt: uniq("collusion"), timeout: 20 });
      expect(body.miners).toHaveLength(5);
      expect(probationary(body.miners)).toBe(2);
      const colluders = [recordOf(body, ids.colludeA), recordOf(body, ids.colludeB)];
      // Their answers are the same text, and it is not the answer.
      expect(colluders[0]?.precommit_hash).toBe(colluders[1]?.precommit_hash);
      for (const c of colluders) expect(c).toMatchObject({ probation: true, agreed: false });
      expect(await isOutputOf(body, ids.colludeA)).toBe(false);
      // The answer is an established miner's, with no one beside it: no agreement, not a decision of the colluders.
      expect(body.consensus).toMatchObject({ status: "no_agreement", agreed: 1 });
      expect(textOf(body)).not.toBe("");
    }
  });

  it("cannot decide a task when every established miner fails: the task fails instead", async () => {
    const { model, ids } = await minersFor(["failing", "colludeA"]);
    await onProbation(ids.colludeA);
    // Redundancy 3: one probationary seat beside the failing established miner.
    const sessionId = await createSession({ model, redundancy: 3 });
    const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: uniq("unvouched"), timeout: 20 } });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: string; message: string; details: { miners: { miner: string; status: string; probation?: boolean }[] } } };
    expect(body.error.code).toBe("miners_failed");
    expect(body.error.message).toMatch(/probation/);
    expect(body.error.details.miners.find((m) => m.miner === ids.colludeA)).toMatchObject({ status: "precommitted", probation: true });
  });
});
