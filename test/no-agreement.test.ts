import { describe, expect, it } from "vitest";
import { privateKeyToAccount } from "viem/accounts";
import { ReceiptSchema } from "../domain/receipts/receipt-schema";
import { verifyReceipt } from "../domain/receipts/verify-receipt";
import { CompletionResponseSchema } from "../domain/schemas/completion";
import { call, createSession, minersFor, uniq } from "./helpers";
import { TEST_ROUTER_SIGNER_KEY } from "./keys";

/** Two miners, one of which always answers wrongly: at redundancy 2 neither outvotes the other. */
async function splitSession(fields: Record<string, unknown> = {}) {
  const { model, ids } = await minersFor(["fastA", "wrong"]);
  const sessionId = await createSession({ model, redundancy: 2, min_nodes: 2, max_nodes: 2, commit_policy: "all", ...fields });
  return { sessionId, ids };
}

describe("a task whose miners do not agree", () => {
  it("says no_agreement in its consensus status, its x-consensus header, its task view and its receipt", async () => {
    const { sessionId, ids } = await splitSession();
    const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: uniq("split"), timeout: 20 } });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get("x-consensus")).toBe("no_agreement");
    const completion = CompletionResponseSchema.parse(await res.json());
    expect(completion.consensus).toMatchObject({ status: "no_agreement", redundancy: 2, agreed: 1, reached: false });
    // The other answer is still listed, as an answer that was not outvoted.
    expect(completion.consensus.dissent).toHaveLength(1);
    expect(completion.miners.map((m) => m.miner).sort()).toEqual([ids["fastA"], ids["wrong"]].sort());

    const view = (await (await call(`/api/v1/tasks/${sessionId}/${completion.task_id}`)).json()) as { result: { consensus: { status: string } } | null };
    expect(view.result?.consensus.status).toBe("no_agreement");

    const receiptRes = await call(`/api/v1/tasks/${sessionId}/${completion.task_id}/receipt`);
    expect(receiptRes.status).toBe(200);
    const receipt = ReceiptSchema.parse(await receiptRes.json());
    expect(receipt).toMatchObject({ outcome: "answered", consensus: { redundancy: 2, agreed: 1, status: "no_agreement" } });
    const verdict = await verifyReceipt(receipt, { router: privateKeyToAccount(TEST_ROUTER_SIGNER_KEY).address });
    expect(verdict.checks.filter((c) => c.result === "fail")).toEqual([]);
  });

  it("under consensus_policy majority, refuses the answer and names the status no_agreement", async () => {
    const { sessionId } = await splitSession({ consensus_policy: "majority" });
    const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: uniq("split"), timeout: 20 } });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: string; details: { status: string; agreed: number; required: number } } };
    expect(body.error).toMatchObject({ code: "consensus_not_reached", details: { status: "no_agreement", agreed: 1, required: 2 } });
  });
});
