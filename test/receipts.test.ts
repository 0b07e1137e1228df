import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";
import { canonicalJson } from "../domain/receipts/canonical";
import { type Receipt, ReceiptSchema } from "../domain/receipts/receipt-schema";
import { signReceipt } from "../domain/receipts/router-signer";
import { verifyReceipt } from "../domain/receipts/verify-receipt";
import { MinerPublicSchema } from "../domain/schemas/miner";
import { CompletionResponseSchema } from "../domain/schemas/completion";
import { call, createSession, minerInbox, minersFor, until } from "./helpers";
import { claimFromHeaders, type ResultClaim, resultMessage } from "../domain/miners/result-signature";
import { sha256Hex } from "../domain/crypto/sha256";
import { devMinerKey } from "../tools/dev-miner/sign.ts";
import { TEST_ROUTER_SIGNER_KEY } from "./keys";
import { flushReports } from "./report-flush";
import receiptJsonSchema from "../docs/receipt.schema.json";

const router = privateKeyToAccount(TEST_ROUTER_SIGNER_KEY);
const stubOf = (sessionId: number) => env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}`));

async function complete(sessionId: number, prompt: string, path = "/api/v1/completions") {
  const res = await call(`${path}/${sessionId}`, { method: "POST", json: { prompt, timeout: 20 } });
  expect(res.status, await res.clone().text()).toBe(200);
  return CompletionResponseSchema.parse(await res.json());
}

async function receiptOf(sessionId: number, taskId: number): Promise<Receipt> {
  const res = await call(`/api/v1/tasks/${sessionId}/${taskId}/receipt`);
  expect(res.status, await res.clone().text()).toBe(200);
  return ReceiptSchema.parse(await res.json());
}

const failing = (v: { checks: { name: string; result: string }[] }) => v.checks.filter((c) => c.result === "fail").map((c) => c.name);
const answerOf = (c: z.infer<typeof CompletionResponseSchema>) => c.choices[0]?.text ?? c.choices[0]?.message?.content ?? "";

describe("miner signatures", () => {
  it("signed results are checked against the registered addresses, and their receipt verifies offline", async () => {
    const { model, ids } = await minersFor(["signedA", "signedB", "signedC"], { registered: ["signedA", "signedB", "signedC"] });
    const sessionId = await createSession({ model, redundancy: 3, max_nodes: 3, signatures: "require", commit_policy: "all" });
    const completion = await complete(sessionId, "signed results please");
    expect(completion.consensus).toMatchObject({ status: "unanimous", agreed: 3 });
    expect(completion.miners.map((m) => [m.miner, m.signature]).sort()).toEqual(
      Object.values(ids)
        .map((id) => [id, "valid"])
        .sort(),
    );
    expect(completion.receipt_url).toBe(`/api/v1/tasks/${sessionId}/${completion.task_id}/receipt`);

    const receipt = await receiptOf(sessionId, completion.task_id);
    expect(receipt).toMatchObject({
      router: router.address,
      session_id: sessionId,
      outcome: "answered",
      consensus: { redundancy: 3, quorum: 2, signatures: "require", agreed: 3 },
    });
    const verdict = await verifyReceipt(receipt, { router: router.address, answer: answerOf(completion) });
    expect(failing(verdict)).toEqual([]);
    expect(verdict.checks.filter((c) => c.name.startsWith("miner-signature:")).map((c) => c.result)).toEqual(["pass", "pass", "pass"]);
    expect(verdict.checks.find((c) => c.name === "consensus-decision")?.result).toBe("pass");
    // Signed on its first read, and the same receipt on every read after.
    expect(await receiptOf(sessionId, completion.task_id)).toEqual(receipt);
  });

  it("under require, a miner signing with another key or over another output is refused as its failure and replaced", async () => {
    const registered = ["otherKey", "otherOutput", "signedA", "signedB"] as const;
    const { model, ids } = await minersFor([...registered], { registered: [...registered] });
    // commit_policy all: decided once every call ended, so both refusals are in whatever the order of arrival.
    const sessionId = await createSession({ model, redundancy: 3, max_nodes: 4, signatures: "require", commit_policy: "all" });
    const completion = await complete(sessionId, "who signs what");
    // Three are asked, at least one of them refused: the fourth miner replaces the first refusal, and the last has no one left.
    expect(completion.miners).toHaveLength(4);
    const byId = new Map(completion.miners.map((m) => [m.miner, m]));
    for (const bad of [ids["otherKey"], ids["otherOutput"]]) expect(byId.get(bad ?? "")).toMatchObject({ status: "failed", fault: "miner", precommit_hash: null });
    for (const good of [ids["signedA"], ids["signedB"]]) expect(byId.get(good ?? "")).toMatchObject({ status: "committed", signature: "valid", agreed: true });
    expect(completion.consensus).toMatchObject({ agreed: 2, status: "majority" });

    const receipt = await receiptOf(sessionId, completion.task_id);
    expect(
      receipt.miners
        .filter((m) => m.counted)
        .map((m) => m.miner_id)
        .sort(),
    ).toEqual([ids["signedA"], ids["signedB"]].sort());
    expect(failing(await verifyReceipt(receipt, { router: router.address }))).toEqual([]);

    // Their reputation falls: the registry counts the refusals as failures.
    await flushReports(sessionId);
    const { miners } = z.object({ miners: z.array(MinerPublicSchema) }).parse(await (await call("/api/v1/miners")).json());
    const listed = new Map(miners.map((m) => [m.id, m]));
    const good = listed.get(ids["signedA"] ?? "");
    for (const bad of [ids["otherKey"], ids["otherOutput"]]) {
      const miner = listed.get(bad ?? "");
      expect(miner?.stats.failed).toBe(1);
      expect(miner?.reputation).toBeLessThan(good?.reputation ?? 0);
    }
  });

  it("under prefer, an unsigned result is accepted and marked unsigned; a false signature is still refused", async () => {
    const { model, ids } = await minersFor(["fastA", "signedA", "otherOutput"], { registered: ["signedA", "otherOutput"] });
    // Every miner's result is in before the decision (commit_policy all): otherwise, on a busy machine, the two that agree could
    // decide before the false signature came in, and it would be a late result, pending in the answer (seen twice in full runs).
    const sessionId = await createSession({ model, redundancy: 3, max_nodes: 3, commit_policy: "all" });
    const completion = await complete(sessionId, "signatures if you have them");
    const byId = new Map(completion.miners.map((m) => [m.miner, m]));
    expect(byId.get(ids["fastA"] ?? "")).toMatchObject({ status: "committed", signature: "unsigned", agreed: true });
    expect(byId.get(ids["signedA"] ?? "")).toMatchObject({ status: "committed", signature: "valid", agreed: true });
    expect(byId.get(ids["otherOutput"] ?? "")).toMatchObject({ status: "failed", fault: "miner" });

    const receipt = await receiptOf(sessionId, completion.task_id);
    expect(receipt.consensus.signatures).toBe("prefer");
    expect(receipt.miners.find((m) => m.miner_id === ids["fastA"])).toMatchObject({ signature: null, signature_status: "unsigned", counted: true });
    const verdict = await verifyReceipt(receipt, { router: router.address });
    expect(failing(verdict)).toEqual([]);
    const slot = receipt.miners.find((m) => m.miner_id === ids["fastA"])?.slot;
    expect(verdict.checks.find((c) => c.name === `miner-signature:${slot}`)?.result).toBe("skip");
  });

  it("under off, miners are not asked to sign and results carry no signature status", async () => {
    const { model, ids } = await minersFor(["signedA"], { registered: ["signedA"] });
    const sessionId = await createSession({ model, signatures: "off" });
    const completion = await complete(sessionId, "no signatures");
    expect(completion.miners).toMatchObject([{ miner: ids["signedA"], signature: null }]);
    expect((await receiptOf(sessionId, completion.task_id)).miners[0]).toMatchObject({ signature: null, signature_status: null });
  });

  it("reads a streamed result's signature from its last chunk", async () => {
    const { model } = await minersFor(["signedStreamer"], { registered: ["signedStreamer"] });
    const sessionId = await createSession({ model, signatures: "prefer" });
    const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "stream it signed", stream: true, timeout: 20 } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain("data: [DONE]");
    const taskId = Number(/"task_id":(\d+)/.exec(text)?.[1]);
    const receipt = await receiptOf(sessionId, taskId);
    expect(receipt.miners[0]).toMatchObject({ signature_status: "valid", counted: true });
    expect(failing(await verifyReceipt(receipt, { router: router.address }))).toEqual([]);
  });

  it("under require, streams no text before its signature checked out", async () => {
    const { model } = await minersFor(["signedStreamer"], { registered: ["signedStreamer"] });
    const sessionId = await createSession({ model, signatures: "require" });
    const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "stream it only once signed", stream: true, timeout: 20 } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("data: [DONE]");
    // The miner was asked for a whole answer, not a stream.
    const asked = (await minerInbox("signedStreamer")).find((r) => JSON.stringify(r.body).includes("stream it only once signed"));
    expect(asked?.body["stream"]).toBe(false);
  });

  it("a task every miner fails under require still has a receipt, with no chosen output", async () => {
    // Registered with an address, but it never signs.
    const { model } = await minersFor(["fastA"], { registered: ["fastA"] });
    const sessionId = await createSession({ model, signatures: "require" });
    const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "unsigned only", timeout: 20 } });
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: { code: "miners_failed", details: { miners: [{ fault: "miner", error: expect.stringContaining("no result signature") }] } } });
    const listed = (await (await call(`/api/v1/tasks/${sessionId}`)).json()) as { tasks: { task_id: number }[] };
    const taskId = listed.tasks[0]?.task_id ?? -1;
    // The failure links its receipt in a header.
    expect(res.headers.get("x-receipt-url")).toBe(`/api/v1/tasks/${sessionId}/${taskId}/receipt`);
    const receipt = await receiptOf(sessionId, taskId);
    expect(receipt).toMatchObject({ outcome: "failed", chosen: null, miners: [{ status: "failed", fault: "miner", counted: false }] });
    expect(failing(await verifyReceipt(receipt, { router: router.address }))).toEqual([]);
  });
});

describe("receipts", () => {
  async function oneWrongOfThree() {
    const { model, ids } = await minersFor(["signedA", "signedB", "signedWrong"], { registered: ["signedA", "signedB", "signedWrong"] });
    const sessionId = await createSession({ model, redundancy: 3, max_nodes: 3, signatures: "require", commit_policy: "all" });
    const completion = await complete(sessionId, "three miners, one of them wrong");
    const receipt = await receiptOf(sessionId, completion.task_id);
    const wrong = receipt.miners.find((m) => m.miner_id === ids["signedWrong"]);
    const right = receipt.miners.find((m) => m.miner_id === ids["signedA"]);
    if (!wrong || !right) throw new Error("miners missing from the receipt");
    return { receipt, completion, wrong, right };
  }

  it("of a redundancy-3 task with one wrong miner verifies offline and shows who disagreed", async () => {
    const { receipt, completion, wrong } = await oneWrongOfThree();
    expect(completion.consensus).toMatchObject({ status: "majority", agreed: 2 });
    expect(wrong).toMatchObject({ counted: true, agreed: false, signature_status: "valid" });
    expect(wrong.similarity).toBeLessThan(0.9);
    const verdict = await verifyReceipt(receipt, { router: router.address, answer: answerOf(completion) });
    expect(failing(verdict)).toEqual([]);
    expect(verdict.checks.find((c) => c.name === "consensus-decision")).toMatchObject({ result: "pass", detail: expect.stringContaining(`disagreed: ${wrong.miner_id}`) });
    expect(verdict.checks.find((c) => c.name === `agreement:${wrong.slot}`)?.result).toBe("pass");
  });

  it("changed in any one field fails the router's signature, and, re-signed by a lying router, exactly that field's check", async () => {
    const { receipt, wrong, right } = await oneWrongOfThree();
    const at = (r: Receipt, slot: number) => r.miners.find((m) => m.slot === slot) ?? r.miners[0]!;
    const tampers: [string, (r: Receipt) => void, string][] = [
      [
        "one byte of an output",
        (r) => {
          at(r, right.slot).output = `${right.output?.slice(0, -1)}!`;
        },
        `output-hash:${right.slot}`,
      ],
      [
        "a similarity",
        (r) => {
          at(r, wrong.slot).similarity = 0.95;
        },
        `similarity:${wrong.slot}`,
      ],
      [
        "an agreement",
        (r) => {
          at(r, wrong.slot).agreed = true;
        },
        `agreement:${wrong.slot}`,
      ],
      [
        "a miner address",
        (r) => {
          at(r, right.slot).address = privateKeyToAccount(TEST_ROUTER_SIGNER_KEY).address;
        },
        `miner-signature:${right.slot}`,
      ],
      [
        "the chosen output",
        (r) => {
          r.chosen = { slot: r.chosen?.slot ?? 0, output_hash: wrong.precommit_hash ?? "" };
        },
        "chosen-output",
      ],
    ];
    for (const [what, change, check] of tampers) {
      const changed = structuredClone(receipt);
      change(changed);
      expect(canonicalJson(changed), what).not.toBe(canonicalJson(receipt));
      expect(failing(await verifyReceipt(changed)), what).toEqual(expect.arrayContaining(["router-signature", check]));
      const { router_signature: _, ...body } = changed;
      const resigned = await signReceipt(body, router);
      expect(failing(await verifyReceipt(resigned, { router: router.address })), what).toEqual([check]);
    }
    // A field no other check covers: only the router's signature says it changed.
    expect(failing(await verifyReceipt({ ...receipt, issued_at: new Date(0).toISOString() }))).toEqual(["router-signature"]);
    // A field the receipt format does not have is refused: it would be outside what the router signed.
    expect(failing(await verifyReceipt({ ...receipt, note: "not signed" }))).toEqual(["format"]);
    // An output handed to the verifier is held to its precommit too.
    expect(failing(await verifyReceipt(receipt, { router: router.address, outputs: { [right.slot]: `${right.output} ` } }))).toEqual([`output-hash:${right.slot}`]);
  });

  it("of a private session carry hashes only, never text, and verify with the outputs given", async () => {
    const { model } = await minersFor(["signedA"], { registered: ["signedA"] });
    const owner = privateKeyToAccount(TEST_ROUTER_SIGNER_KEY).address;
    const sessionId = await createSession({ model, private: true, owner, signatures: "require" });
    const prompt = "a confidential prompt about the zeppelin budget";
    const completion = await complete(sessionId, prompt, "/api/v3/completions");
    const answer = answerOf(completion);
    const receipt = await receiptOf(sessionId, completion.task_id);
    const raw = JSON.stringify(receipt);
    expect(receipt.private).toBe(true);
    expect(raw).not.toContain("zeppelin");
    expect(raw).not.toContain(answer);
    expect(receipt.miners.every((m) => m.output === undefined)).toBe(true);
    const without = await verifyReceipt(receipt, { router: router.address });
    expect(failing(without)).toEqual([]);
    expect(without.checks.find((c) => c.name === "consensus-decision")?.result).toBe("skip");
    const withOutputs = await verifyReceipt(receipt, { router: router.address, outputs: { 0: answer }, answer });
    expect(withOutputs.checks.filter((c) => c.result !== "pass").map((c) => c.name)).toEqual([]);
  });

  it("written before `tasks.receipt`, a row of `receipts`, is still served, signed on its first read, and verifies", async () => {
    const { model } = await minersFor(["signedA", "signedB"], { registered: ["signedA", "signedB"] });
    const sessionId = await createSession({ model, redundancy: 2, max_nodes: 2, signatures: "require", commit_policy: "all" });
    const completion = await complete(sessionId, "a receipt from before the task's row held it");
    const taskId = completion.task_id;
    const read = async () => {
      const res = await call(`/api/v1/tasks/${sessionId}/${taskId}/receipt`);
      expect(res.status).toBe(200);
      return res.text();
    };
    // Now in the task's row alone, its miners' outputs in their assignments.
    const stored = await runInDurableObject(stubOf(sessionId), (_instance, state) => {
      const sql = state.storage.sql;
      const legacy = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM receipts").one().n;
      const row = sql.exec<{ body: string; outputs: number }>("SELECT receipt AS body, receipt_outputs_in_assignments AS outputs FROM tasks WHERE task_id = ?", taskId).one();
      return { legacy, ...row };
    });
    expect(stored).toMatchObject({ legacy: 0, outputs: 1 });
    const served = await read();

    // The same receipt as the migration found it: unsigned in `receipts` (as written then), the task's row without one.
    await runInDurableObject(stubOf(sessionId), (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("INSERT INTO receipts (task_id, body, outputs_in_assignments) VALUES (?, ?, 1)", taskId, stored.body);
      sql.exec("UPDATE tasks SET receipt = NULL, receipt_outputs_in_assignments = 0, receipt_signature = NULL WHERE task_id = ?", taskId);
    });
    // Byte for byte what the task's row served: the signature is deterministic (RFC 6979).
    expect(await read()).toBe(served);
    const receipt = ReceiptSchema.parse(JSON.parse(served));
    expect(failing(await verifyReceipt(receipt, { router: router.address, answer: answerOf(completion) }))).toEqual([]);
    // Its signature stored where its body is, on that first read; the task's row still holds none.
    const after = await runInDurableObject(stubOf(sessionId), (_instance, state) => {
      const sql = state.storage.sql;
      return {
        legacy: sql.exec<{ sig: string | null }>("SELECT router_signature AS sig FROM receipts WHERE task_id = ?", taskId).one().sig,
        row: sql.exec<{ receipt: string | null; sig: string | null }>("SELECT receipt, receipt_signature AS sig FROM tasks WHERE task_id = ?", taskId).one(),
      };
    });
    expect(after).toEqual({ legacy: receipt.router_signature, row: { receipt: null, sig: null } });
    expect(await read()).toBe(served);
  });

  it("answers 404 for a task that does not exist, and is in the OpenAPI document", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const res = await call(`/api/v1/tasks/${sessionId}/424242/receipt`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "receipt_not_found" } });
    const bad = await call(`/api/v1/tasks/${sessionId}/x/receipt`);
    expect(bad.status).toBe(400);
    const doc = (await (await call("/openapi.json")).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain("/api/v1/tasks/{sessionId}/{taskId}/receipt");
  });

  it("docs/receipt.schema.json is the receipt schema as JSON Schema", () => {
    expect(receiptJsonSchema).toEqual(JSON.parse(JSON.stringify(z.toJSONSchema(ReceiptSchema, { target: "draft-2020-12" }))));
  });
});

describe("off-chain deliveries", () => {
  type Dispatch = { body: { cortensor?: { task_id: number; token: string; payload_url: string } }; signing: Record<string, string> };

  /** Runs one v3 task on the off-chain miner and delivers its result in the miner's place, signed as `sign` says (given the miner's key). */
  async function deliverSigned(sign: (claim: ResultClaim, minerKey: Hex) => Promise<string>) {
    const { model, ids, keys } = await minersFor(["offchain"], { offchain: true, registered: ["offchain"] });
    const sessionId = await createSession({ model, signatures: "require" });
    const pending = call(`/api/v3/completions/${sessionId}`, { method: "POST", json: { prompt: "deliver it signed", timeout: 20, precommit_timeout: 15 } });
    const dispatch = await until(async () =>
      (await minerInbox("offchain")).map((r) => r as unknown as Dispatch).find((r) => r.body.cortensor?.payload_url.includes(`s${sessionId}%2F`)),
    );
    const task = dispatch.body.cortensor;
    const claim = claimFromHeaders((h) => dispatch.signing[h]);
    if (!task || !claim) throw new Error("the router asked for no signature");
    expect(claim).toEqual({ router: router.address, sessionId, taskId: task.task_id, requestHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const result = "Delivered off chain, signed.";
    const cortensor_signature = await sign({ ...claim, outputHash: await sha256Hex(result) }, keys["offchain"] ?? "0x");
    const delivered = await call("/api/v3/offchain/result", {
      method: "POST",
      key: task.token,
      json: { session_id: sessionId, task_id: task.task_id, result, cortensor_signature },
    });
    expect(delivered.status).toBe(200);
    return { res: await pending, sessionId, taskId: task.task_id, minerId: ids["offchain"] };
  }

  it("take the signature from the delivery's body", async () => {
    const { res, sessionId, taskId, minerId } = await deliverSigned((claim, key) => privateKeyToAccount(key).signMessage({ message: resultMessage(claim) }));
    expect(res.status).toBe(200);
    expect(CompletionResponseSchema.parse(await res.json()).miners).toMatchObject([{ miner: minerId, signature: "valid" }]);
    const receipt = await receiptOf(sessionId, taskId);
    expect(receipt.miners[0]).toMatchObject({ signature_status: "valid" });
    expect(failing(await verifyReceipt(receipt, { router: router.address }))).toEqual([]);
  });

  it("refuse a delivery signed by another key under require", async () => {
    const stranger = privateKeyToAccount(devMinerKey("not the offchain miner"));
    const { res } = await deliverSigned((claim) => stranger.signMessage({ message: resultMessage(claim) }));
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: { code: "miners_failed", details: { miners: [{ fault: "miner", error: expect.stringContaining("signature") }] } } });
  });
});
