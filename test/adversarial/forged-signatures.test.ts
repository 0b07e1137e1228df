import { describe, expect, it } from "vitest";
import { privateKeyToAccount } from "viem/accounts";
import { addressProof, admin, call, createSession, fleet, minersFor, uniq } from "../helpers";
import { devMinerKey, identityKey } from "../../tools/dev-miner/sign.ts";

type Answer = { miners: { miner: string; status: string; fault: string | null; signature?: string | null }[]; consensus: { agreed: number } };

/**
 * Miners that sign, but not their own result for this task: a signature
 * carried over from another task, one by a key that is not theirs (copied
 * from another miner), one over a text they did not send. Under `require`
 * none of them is counted, and each is the miner's own failure.
 */
describe("forged result signatures", () => {
  it("refuses a signature made for another task, another key or another output, and counts only the honest miner", async () => {
    const liars = ["otherTask", "otherKey", "otherOutput"] as const;
    const { model, ids } = await minersFor([...liars, "signedA"], { registered: [...liars, "signedA"] });
    const sessionId = await createSession({ model, redundancy: 4, max_nodes: 4, signatures: "require", commit_policy: "all" });
    const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "sign your own work", timeout: 20 } });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Answer;
    const byId = new Map(answer.miners.map((m) => [m.miner, m]));
    for (const liar of liars) expect(byId.get(ids[liar] ?? ""), liar).toMatchObject({ status: "failed", fault: "miner" });
    expect(byId.get(ids["signedA"] ?? "")).toMatchObject({ status: "committed", signature: "valid" });
    expect(answer.consensus.agreed).toBe(1);
  });

  it("refuses a miner's own signature when it is registered under another address", async () => {
    // signedA signs rightly with its own key, but the router knows it under another address (proven by that key's holder).
    const { model, ids } = await minersFor(["signedA"]);
    const other = identityKey(devMinerKey("signedB"), uniq("other"));
    const patch = await admin(`/api/v1/admin/miners/${ids["signedA"]}`, "PATCH", {
      evm_address: privateKeyToAccount(other).address,
      address_proof: await addressProof(other, fleet().signedA.url),
    });
    expect(patch.status).toBe(200);
    const sessionId = await createSession({ model, signatures: "require" });
    const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "whose key is this", timeout: 20 } });
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({
      error: { code: "miners_failed", details: { miners: [{ fault: "miner", error: expect.stringContaining("not its registered address") }] } },
    });
  });
});
