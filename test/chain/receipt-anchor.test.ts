/**
 * Anchored receipts against the real dev chains (test/setup/global-setup.ts
 * deploys a ReceiptAnchor on each): the router queues every receipt's leaf,
 * posts each batch's Merkle root from its chain account, and serves each
 * receipt with its anchor, which `npm run verify -- --rpc` checks on chain.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";
import { receiptAnchorAbi } from "../../contracts/artifacts";
import type { AnchorTarget } from "../../domain/config/config";
import { anchorStub } from "../../domain/objects/stubs";
import { type Receipt, ReceiptSchema } from "../../domain/receipts/receipt-schema";
import { verifyAnchor } from "../../domain/receipts/verify-anchor";
import { CompletionResponseSchema } from "../../domain/schemas/completion";
import { resolvePin } from "../../scripts/verify-pin";
import { verifyReceipt } from "../../domain/receipts/verify-receipt";
import { devChainClients } from "../../tools/dev-chain/deploy";
import { call, createSession, minersFor, until, workerFetch } from "../helpers";
import { anchorTargetFor, chains } from "./chain-helpers";

const chainAccount = () => privateKeyToAccount(env.CHAIN_SIGNER_KEY as Hex).address;
const mainTarget = (): AnchorTarget => anchorTargetFor(chains().main);

async function receiptOf(sessionId: number, taskId: number): Promise<Receipt> {
  const res = await call(`/api/v1/tasks/${sessionId}/${taskId}/receipt`);
  expect(res.status, await res.clone().text()).toBe(200);
  return ReceiptSchema.parse(await res.json());
}

/**
 * What `npm run verify -- --router-url … --rpc …` checks (scripts/verify-cli.ts; its argument parsing
 * needs Node): the router pinned from its published document, the receipt, and its anchor on chain.
 */
async function verify(receipt: unknown, rpc: string) {
  const pin = await resolvePin({ routerUrl: "http://router.test" }, workerFetch());
  if (!pin.ok) throw new Error(pin.message);
  const parsed = ReceiptSchema.parse(receipt);
  const checks = [...(await verifyReceipt(parsed, { router: pin.address })).checks, ...(await verifyAnchor(parsed, { rpcUrl: rpc, sender: pin.anchorSender }))];
  return { ok: checks.every((c) => c.result !== "fail"), failed: checks.filter((c) => c.result === "fail").map((c) => c.name), checks };
}

const rootLogs = (target: AnchorTarget, root: Hex) =>
  devChainClients(target.rpcUrl, target.chainId, chainAccount()).publicClient.getContractEvents({
    address: target.anchorAddress,
    abi: receiptAnchorAbi,
    eventName: "ReceiptsAnchored",
    args: { root },
    fromBlock: 0n,
  });

describe("anchored receipts", () => {
  it("a task's receipt says pending, then carries its anchor, which verifies on chain; a byte changed fails it", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model, redundancy: 1, max_nodes: 1 });
    const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "anchor me", timeout: 20 } });
    expect(res.status, await res.clone().text()).toBe(200);
    const { task_id: taskId } = CompletionResponseSchema.parse(await res.json());

    const pending = await receiptOf(sessionId, taskId);
    expect(pending.anchor).toEqual({ status: "pending" });
    const unanchored = await verify(pending, chains().main.url);
    expect(unanchored.failed).toEqual(["anchor"]);
    expect(unanchored.checks.find((c) => c.name === "anchor")?.detail).toMatch(/^not anchored yet/);

    // The batch is due only when flushed (ANCHOR_* in vitest.config.ts); the leaf is queued after the task's turn.
    const target = mainTarget();
    const anchors = anchorStub(env, target);
    await until(async () => (await anchors.receiptAnchor(sessionId, taskId))?.status === "pending");
    const flush = await anchors.flushAnchors({ force: true });
    expect(flush.error).toBeNull();
    expect(flush.posted?.tx_hash).toMatch(/^0x[0-9a-f]{64}$/);

    const receipt = await receiptOf(sessionId, taskId);
    expect(receipt.anchor).toMatchObject({ status: "anchored", chain_id: target.chainId, contract: target.anchorAddress, batch: flush.posted?.batch, root: flush.posted?.root });
    // The anchor is outside the signed body: the router's signature is the one it had.
    expect(receipt.router_signature).toBe(pending.router_signature);
    const verified = await verify(receipt, chains().main.url);
    expect(verified.failed).toEqual([]);
    expect(verified.checks.filter((c) => c.name.startsWith("anchor")).map((c) => [c.name, c.result])).toEqual([
      ["anchor-leaf", "pass"],
      ["anchor-proof", "pass"],
      ["anchor-onchain", "pass"],
    ]);

    // One byte of the output changed (the router's signature fails too): the leaf is no longer under the root.
    const output = receipt.miners[0]?.output ?? "";
    const altered = { ...receipt, miners: [{ ...receipt.miners[0], output: `${output.slice(0, -1)}${output.endsWith("x") ? "y" : "x"}` }] };
    const tampered = await verify(altered, chains().main.url);
    expect(tampered.failed).toEqual(expect.arrayContaining(["router-signature", "anchor-leaf", "anchor-proof"]));
    expect(tampered.failed).not.toContain("anchor-onchain");

    // A root posted by another account than the router's published one does not count.
    const forged = await verifyAnchor(receipt, { rpcUrl: chains().main.url, sender: chains().main.accounts[6] ?? null });
    expect(forged.find((c) => c.name === "anchor-onchain")).toMatchObject({ result: "fail", detail: expect.stringMatching(/not by the router's published account/) });

    // The well-known document publishes the account that posts roots.
    const known = await (await call("/.well-known/cortensor-router.json")).json();
    expect(known).toMatchObject({ receipt_anchor: { contract: target.anchorAddress, sender: chainAccount() } });
  });

  it("seals a batch when ANCHOR_BATCH_SIZE receipts wait, on the object's alarm", async () => {
    const main = chains().main;
    const target: AnchorTarget = { ...mainTarget(), batchSize: 2 };
    // An anchor queue of its own: the same contract under another name would share the main queue.
    const anchors = env.CHAIN_INDEX.get(env.CHAIN_INDEX.idFromName(`anchor-test:size:${crypto.randomUUID()}`));
    const leaf = (n: number) => `0x${n.toString(16).padStart(2, "0").repeat(32)}` as Hex;
    const salt = Math.floor(Math.random() * 200) + 16;
    await anchors.queueReceipt(target, 1, 1, leaf(salt));
    expect(await anchors.flushAnchors()).toEqual({ sealed: null, posted: null, error: null });
    await anchors.queueReceipt(target, 1, 2, leaf(salt + 1));
    // Two wait: the alarm is due now and seals and posts them.
    const sent = await until(async () => (await anchors.anchorBatches()).find((b) => b.tx_hash !== null));
    expect(sent.count).toBe(2);
    const anchor = await anchors.receiptAnchor(1, 2);
    expect(anchor).toMatchObject({ status: "anchored", root: sent.root, transaction: sent.tx_hash });
    expect((await rootLogs({ ...target, rpcUrl: main.url }, sent.root as Hex)).length).toBe(1);
  });

  it("posts a root once when the flush is retried after its transaction landed unseen", async () => {
    const faulty = chains().faulty;
    const target = anchorTargetFor(faulty, { rpcTimeoutMs: 1_000 });
    const anchors = env.CHAIN_INDEX.get(env.CHAIN_INDEX.idFromName(`anchor-test:lost:${crypto.randomUUID()}`));
    const reader = devChainClients(faulty.directUrl, faulty.chainId, chainAccount()).publicClient;
    const batchesBefore = await reader.readContract({ address: target.anchorAddress, abi: receiptAnchorAbi, functionName: "batches", args: [chainAccount()] });
    await anchors.queueReceipt(target, 7, 1, `0x${crypto.randomUUID().replaceAll("-", "").padEnd(64, "a")}`);
    await anchors.queueReceipt(target, 7, 2, `0x${crypto.randomUUID().replaceAll("-", "").padEnd(64, "b")}`);

    // The transaction reaches the chain; its answer never reaches the router.
    await fetch(`${faulty.url}/__faults`, { method: "POST", body: JSON.stringify({ loseAnswerTo: "eth_sendRawTransaction" }) });
    try {
      const first = await anchors.flushAnchors({ force: true });
      expect(first.sealed).toBe(Number(batchesBefore) + 1);
      expect(first.error).not.toBeNull();
      expect(await anchors.receiptAnchor(7, 1)).toEqual({ status: "pending" });
      const injected = (await (await fetch(`${faulty.url}/__faults`)).json()) as { injected: Record<string, number> };
      expect(injected.injected.lost).toBe(1);
    } finally {
      await fetch(`${faulty.url}/__faults`, { method: "POST", body: JSON.stringify({}) });
    }

    const retried = await anchors.flushAnchors({ force: true });
    expect(retried.error).toBeNull();
    expect(retried.sealed).toBeNull();
    const [batch] = await anchors.anchorBatches();
    expect(batch).toMatchObject({ batch: Number(batchesBefore) + 1, count: 2 });
    // One batch more on chain, one log for the root, and the receipt names that log's transaction.
    expect(await reader.readContract({ address: target.anchorAddress, abi: receiptAnchorAbi, functionName: "batches", args: [chainAccount()] })).toBe(batchesBefore + 1n);
    const logs = await rootLogs({ ...target, rpcUrl: faulty.directUrl }, batch?.root as Hex);
    expect(logs.map((l) => l.transactionHash)).toEqual([batch?.tx_hash]);
    expect(await anchors.receiptAnchor(7, 2)).toMatchObject({ status: "anchored", transaction: batch?.tx_hash });
    // Flushed again with nothing waiting: nothing sent.
    expect(await anchors.flushAnchors({ force: true })).toEqual({ sealed: null, posted: null, error: null });
  });

  it("a sealed batch whose number another post of the account took is renumbered, and posted once", async () => {
    const faulty = chains().faulty;
    const target = anchorTargetFor(faulty, { rpcTimeoutMs: 1_000 });
    const anchors = env.CHAIN_INDEX.get(env.CHAIN_INDEX.idFromName(`anchor-test:renumber:${crypto.randomUUID()}`));
    const account = privateKeyToAccount(env.CHAIN_SIGNER_KEY as Hex);
    const direct = devChainClients(faulty.directUrl, faulty.chainId, account);
    const count = () => direct.publicClient.readContract({ address: target.anchorAddress, abi: receiptAnchorAbi, functionName: "batches", args: [account.address] });
    const before = await count();
    await anchors.queueReceipt(target, 9, 1, `0x${crypto.randomUUID().replaceAll("-", "").padEnd(64, "c")}`);

    // The transaction never reaches the chain: the batch is sealed as the next number, unsent.
    await fetch(`${faulty.url}/__faults`, { method: "POST", body: JSON.stringify({ dropCallTo: "eth_sendRawTransaction" }) });
    try {
      const first = await anchors.flushAnchors({ force: true });
      expect(first).toMatchObject({ sealed: Number(before) + 1, posted: null });
    } finally {
      await fetch(`${faulty.url}/__faults`, { method: "POST", body: JSON.stringify({}) });
    }
    // Meanwhile the account posts another root, taking that number.
    const other = `0x${crypto.randomUUID().replaceAll("-", "").padEnd(64, "d")}` as Hex;
    await direct.confirm(await direct.wallet.writeContract({ address: target.anchorAddress, abi: receiptAnchorAbi, functionName: "anchor", args: [before + 1n, other, 1n] }));

    const retried = await anchors.flushAnchors({ force: true });
    expect(retried.error).toBeNull();
    expect(retried.posted).toMatchObject({ batch: Number(before) + 2, count: 1 });
    expect(await count()).toBe(before + 2n);
    expect(await anchors.receiptAnchor(9, 1)).toMatchObject({ status: "anchored", batch: Number(before) + 2, transaction: retried.posted?.tx_hash });
    expect((await rootLogs({ ...target, rpcUrl: faulty.directUrl }, retried.posted?.root as Hex)).length).toBe(1);
  });
});
