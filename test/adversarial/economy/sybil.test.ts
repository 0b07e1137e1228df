import { describe, expect, it, vi } from "vitest";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { addressProofMessage } from "../../../domain/miners/address-proof";
import { resultMessage } from "../../../domain/miners/result-signature";
import { ReceiptSchema } from "../../../domain/receipts/receipt-schema";
import { signReceipt } from "../../../domain/receipts/router-signer";
import { verifyReceipt } from "../../../domain/receipts/verify-receipt";
import { devMinerKey, identityKey, registrationProof } from "../../../tools/dev-miner/sign.ts";
import { addressProof, admin, call, createSession, fleet, minersFor, uniq } from "../../helpers";
import { TEST_ROUTER_SIGNER_KEY } from "../../keys";

/**
 * One operator posing as several miners: under one signer address, one
 * payout account or one endpoint. The registry holds an address for one
 * miner only, and only on the proof of its key; a task gives each operator
 * one slot; a receipt naming one signer twice fails verification.
 */
type ErrorBody = { error: { code: string; details?: { issues?: { field: string }[] } } };
const router = privateKeyToAccount(TEST_ROUTER_SIGNER_KEY);
const freshKey = () => identityKey(devMinerKey("sybil"), uniq("k"));
const addressOf = (key: Hex) => privateKeyToAccount(key).address;
const register = (body: Record<string, unknown>) => admin("/api/v1/admin/miners", "POST", { credential: "x", models: [uniq("m")], ...body });
const fieldsOf = async (res: Response) => ((await res.json()) as ErrorBody).error.details?.issues?.map((i) => i.field);

/** A challenge of the router for `url` and `key`'s address, as issued. */
async function challengeFor(key: Hex, url: string) {
  const res = await admin("/api/v1/admin/miners/challenge", "POST", { url, evm_address: addressOf(key) });
  expect(res.status).toBe(201);
  return (await res.json()) as { nonce: string; message: string; router: string; issued_at: string };
}

describe("sybil registrations", () => {
  it("refuses a second miner under an address another registered miner holds, even with a proof of its own", async () => {
    const key = freshKey();
    const first = await register({ id: uniq("holder"), url: fleet().fastA.url, evm_address: addressOf(key), address_proof: await addressProof(key, fleet().fastA.url) });
    expect(first.status).toBe(201);
    // Another id, another URL, a valid proof for them: the address is taken.
    const second = await register({ id: uniq("twin"), url: fleet().fastB.url, evm_address: addressOf(key), address_proof: await addressProof(key, fleet().fastB.url) });
    expect(second.status).toBe(409);
    expect(await fieldsOf(second)).toEqual(["evm_address"]);
    // Nor can a registered miner be moved onto it (the lower-case spelling is the same address).
    const other = await register({ id: uniq("other"), url: fleet().fastC.url });
    const { id } = (await other.json()) as { id: string };
    const moved = await admin(`/api/v1/admin/miners/${id}`, "PATCH", {
      evm_address: addressOf(key).toLowerCase(),
      address_proof: await addressProof(key, fleet().fastC.url),
    });
    expect(moved.status).toBe(409);
    expect(await fieldsOf(moved)).toEqual(["evm_address"]);
    expect(((await (await call("/api/v1/miners")).json()) as { miners: { evm_address: string | null }[] }).miners.filter((m) => m.evm_address === addressOf(key))).toHaveLength(1);
  });

  it("refuses an address without a proof, with a proof by another key, for another URL or for another router", async () => {
    const key = freshKey();
    const url = fleet().fastA.url;
    const bare = await register({ url, evm_address: addressOf(key) });
    expect(bare.status).toBe(400);
    expect(await fieldsOf(bare)).toEqual(["address_proof"]);

    // Signed by a key that is not the address's.
    const byOther = await registrationProof(freshKey(), await challengeFor(key, url));
    const forged = await register({ url, evm_address: addressOf(key), address_proof: byOther });
    expect(forged.status).toBe(400);
    expect(await fieldsOf(forged)).toEqual(["address_proof"]);

    // Proven for another endpoint.
    const elsewhere = await register({ url: fleet().fastB.url, evm_address: addressOf(key), address_proof: await addressProof(key, url) });
    expect(elsewhere.status).toBe(400);
    expect(await fieldsOf(elsewhere)).toEqual(["address_proof"]);

    // The challenge's own nonce, signed for another router: not this router's proof. The same text naming this router registers.
    const challenge = await challengeFor(key, url);
    const claim = { url, address: addressOf(key), nonce: challenge.nonce, issuedAt: Date.parse(challenge.issued_at) };
    expect(addressProofMessage({ router: router.address, ...claim })).toBe(challenge.message);
    const account = privateKeyToAccount(key);
    const otherRouter = privateKeyToAccount(freshKey()).address;
    const signedForOther = await account.signMessage({ message: addressProofMessage({ router: otherRouter, ...claim }) });
    const wrongRouter = await register({ url, evm_address: addressOf(key), address_proof: { nonce: challenge.nonce, signature: signedForOther } });
    expect(wrongRouter.status).toBe(400);
    expect(await fieldsOf(wrongRouter)).toEqual(["address_proof"]);
    const signedHere = await account.signMessage({ message: addressProofMessage({ router: router.address, ...claim }) });
    expect((await register({ url, evm_address: addressOf(key), address_proof: { nonce: challenge.nonce, signature: signedHere } })).status).toBe(201);
  });

  it("refuses a replayed proof, even once the miner it registered is gone", async () => {
    const key = freshKey();
    const url = fleet().fastA.url;
    const proof = await addressProof(key, url);
    const id = uniq("once");
    expect((await register({ id, url, evm_address: addressOf(key), address_proof: proof })).status).toBe(201);
    expect((await admin(`/api/v1/admin/miners/${id}`, "DELETE")).status).toBe(200);
    // The address is free again, the proof is the same: its challenge was used.
    const replayed = await register({ id: uniq("again"), url, evm_address: addressOf(key), address_proof: proof });
    expect(replayed.status).toBe(400);
    expect(await fieldsOf(replayed)).toEqual(["address_proof"]);
    // A miner moved to a new URL proves its address again.
    const kept = uniq("kept");
    expect((await register({ id: kept, url, evm_address: addressOf(key), address_proof: await addressProof(key, url) })).status).toBe(201);
    const moved = await admin(`/api/v1/admin/miners/${kept}`, "PATCH", { url: fleet().fastB.url });
    expect(moved.status).toBe(400);
    expect(await fieldsOf(moved)).toEqual(["address_proof"]);
    expect((await admin(`/api/v1/admin/miners/${kept}`, "PATCH", { url: fleet().fastB.url, address_proof: await addressProof(key, fleet().fastB.url) })).status).toBe(200);
  });

  it("never gives two slots of one task to miners sharing a payout account or an endpoint", async () => {
    // fastA and fastB pay out to one account; fastC is registered twice (one endpoint); spare shares nothing.
    const { model, ids } = await minersFor(["fastA", "fastB", "fastC", "spare"]);
    const { ids: again } = await minersFor(["fastC"], { model });
    const operator = uniq("sybil-op");
    expect((await admin("/v1/admin/customers", "POST", { id: operator, name: operator })).status).toBe(201);
    for (const id of [ids.fastA, ids.fastB]) expect((await admin(`/api/v1/admin/miners/${id}`, "PATCH", { payout_account: operator })).status).toBe(200);
    const operatorOf: Record<string, string> = { [ids.fastA!]: "account", [ids.fastB!]: "account", [ids.fastC!]: "endpoint", [again.fastC!]: "endpoint", [ids.spare!]: "spare" };
    const sessionId = await createSession({ model, redundancy: 3, max_nodes: 3 });
    for (let i = 0; i < 6; i++) {
      const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: uniq("one operator, one slot"), timeout: 20 } });
      expect(res.status).toBe(200);
      const { task_id } = (await res.json()) as { task_id: number };
      const view = (await (await call(`/api/v1/tasks/${sessionId}/${task_id}`)).json()) as { assignments: { miner: string }[] };
      const operators = view.assignments.map((a) => operatorOf[a.miner]);
      // Three operators, three slots: each once.
      expect(operators.sort()).toEqual(["account", "endpoint", "spare"]);
    }
  });

  it("never replaces a failed miner with another of its operator's", async () => {
    // Date stands still: the session keeps its snapshot (only `failing`) until a failure leaves it nothing to pick.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const { model, ids } = await minersFor(["failing"]);
      const operator = uniq("sybil-op");
      expect((await admin("/v1/admin/customers", "POST", { id: operator, name: operator })).status).toBe(201);
      expect((await admin(`/api/v1/admin/miners/${ids.failing}`, "PATCH", { payout_account: operator })).status).toBe(200);
      const sessionId = await createSession({ model });
      const ask = (prompt: string) => call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt, timeout: 10 } });
      expect((await ask("first")).status).toBe(502);
      // The operator's second miner, a healthy one: the failed miner's replacement would be it, were it another operator's.
      const { ids: twin } = await minersFor(["fastB"], { model });
      expect((await admin(`/api/v1/admin/miners/${twin.fastB}`, "PATCH", { payout_account: operator })).status).toBe(200);
      const res = await ask("second");
      expect(res.status).toBe(502);
      const { tasks } = (await (await call(`/api/v1/tasks/${sessionId}`)).json()) as { tasks: { task_id: number }[] };
      const last = Math.max(...tasks.map((t) => t.task_id));
      const view = (await (await call(`/api/v1/tasks/${sessionId}/${last}`)).json()) as { assignments: { miner: string }[] };
      expect(view.assignments.map((a) => a.miner)).toEqual([ids.failing]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("receipts with one signer counted twice", () => {
  it("fail verification's distinct-signers check, though every signature is good", async () => {
    const { model, ids, keys } = await minersFor(["signedA", "signedB"], { registered: ["signedA", "signedB"] });
    const sessionId = await createSession({ model, redundancy: 2, max_nodes: 2, signatures: "require", commit_policy: "all" });
    const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "two signers", timeout: 20 } });
    expect(res.status).toBe(200);
    const { task_id } = (await res.json()) as { task_id: number };
    const receipt = ReceiptSchema.parse(await (await call(`/api/v1/tasks/${sessionId}/${task_id}/receipt`)).json());
    const failing = async (r: unknown) => (await verifyReceipt(r, { router: router.address })).checks.filter((c) => c.result === "fail").map((c) => c.name);
    expect(await failing(receipt)).toEqual([]);
    expect((await verifyReceipt(receipt, { router: router.address })).checks.find((c) => c.name === "distinct-signers")?.result).toBe("pass");

    // signedB's slot re-signed by signedA's key and named under its address, the receipt re-signed by the router's key.
    const { router_signature: _, ...body } = structuredClone(receipt);
    const slotB = body.miners.find((m) => m.miner_id === ids.signedB);
    const keyA = privateKeyToAccount(keys.signedA!);
    if (!slotB?.precommit_hash) throw new Error("signedB has no counted result");
    slotB.address = keyA.address;
    slotB.signature = await keyA.signMessage({
      message: resultMessage({ router: body.router, sessionId: body.session_id, taskId: body.task_id, requestHash: body.request_hash, outputHash: slotB.precommit_hash }),
    });
    const forged = await signReceipt(body, router);
    expect(await failing(forged)).toEqual(["distinct-signers"]);
  });
});
