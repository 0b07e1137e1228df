import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type Address, decodeFunctionData, type Hex, sha256, stringToHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { sessionQueueV2Abi } from "../../contracts/artifacts";
import { resultMessage } from "../../domain/miners/result-signature";
import { ReceiptSchema } from "../../domain/receipts/receipt-schema";
import { deployContracts } from "../../tools/dev-chain/deploy";
import { TEST_ROUTER_SIGNER_KEY } from "../keys";
import { admin, call, createSession, minersFor, until } from "../helpers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { actors, chains, indexOf, settle, targetFor, tickUntilCaughtUp } from "./chain-helpers";

/** A fresh pair of contracts on the faulty chain, reached directly (no other suite rewinds it or counts its blocks). */
async function freshChain() {
  const faulty = chains().faulty;
  const base = { ...faulty, url: faulty.directUrl };
  const deployment = await deployContracts(base.url, base.chainId, base.accounts[0] as Address);
  return { ...base, ...deployment };
}

const ENDED = 4;

/**
 * Hybrid dispatch: a confirmed TaskQueued of a hybrid session (mode 1) this
 * router serves runs as an edge task on the mapped edge session, answered by
 * real dev miners; anything else on chain is only indexed.
 */
describe("hybrid sessions", () => {
  it("runs a hybrid session's chat task on its edge session once, however often the chain is read, and fails other task data with the reason", async () => {
    // The faulty chain, reached directly: a chain no other suite rewinds or counts blocks of.
    const faulty = chains().faulty;
    const base = { ...faulty, url: faulty.directUrl };
    const deployment = await deployContracts(base.url, base.chainId, base.accounts[0] as Address);
    const chain = { ...base, ...deployment };
    const a = actors(chain);
    const { model } = await minersFor(["fastA"]);
    const edgeSessionId = await createSession({ model, redundancy: 1 });

    await a.sessionWrite(a.owner, "create", ["hybrid", "", a.owner, 1n, 1n, 1n, 0n, 1n, false]);
    await a.sessionWrite(a.owner, "create", ["ephemeral", "", a.owner, 1n, 1n, 1n, 0n, 0n, false]);
    await a.queueWrite(a.owner, "submitTask", [0n, JSON.stringify({ type: "chat", message: "Hello" })]);
    await a.queueWrite(a.owner, "submitTask", [0n, JSON.stringify({ type: "image", prompt: "a cat" })]);
    await a.queueWrite(a.owner, "submitTask", [1n, JSON.stringify({ type: "chat", message: "not ours to serve" })]);

    const target = targetFor(chain, { confirmations: 0, hybridSessions: { "0": edgeSessionId, "1": edgeSessionId } });
    const index = indexOf(target);
    await settle(target);

    const answered = await index.task(0, 0);
    expect(answered?.dispatch).toMatchObject({
      edge_session_id: edgeSessionId,
      request_id: expect.stringMatching(new RegExp(`^chain-${chain.chainId}-${chain.queueAddress.toLowerCase()}-0-0-[0-9a-f]{16}$`)),
      status: "answered",
      reason: null,
      consensus: "single",
    });
    expect(answered?.dispatch?.result).toMatch(/\S/);
    // The chain's task: its request id shows to the admin key (a router key sees that it exists).
    const edgeTask = await admin(`/api/v1/tasks/${edgeSessionId}/${answered?.dispatch?.edge_task_id}`, "GET");
    expect(edgeTask.status).toBe(200);
    expect(await edgeTask.json()).toMatchObject({ status: "ended", request_id: answered?.dispatch?.request_id });

    const refused = await index.task(0, 1);
    expect(refused?.dispatch).toMatchObject({ status: "failed", edge_task_id: null });
    expect(refused?.dispatch?.reason).toMatch(/chat/);
    // Mode 0 (ephemeral): indexed, never dispatched, though mapped.
    expect((await index.task(1, 0))?.dispatch).toBeNull();

    // Read the whole chain again: the same rows, and still one edge task.
    await index.resync(chain.startBlock);
    await settle(target);
    expect((await index.task(0, 0))?.dispatch).toEqual(answered?.dispatch);
    const session = (await (await call(`/api/v1/sessions/${edgeSessionId}`)).json()) as { task_count: number };
    expect(session.task_count).toBe(1);
  });

  it("with write-back on, records the answer on the queue contract: getTaskResults returns it and TaskEnded is indexed", async () => {
    const faulty = chains().faulty;
    const base = { ...faulty, url: faulty.directUrl };
    const deployment = await deployContracts(base.url, base.chainId, base.accounts[0] as Address);
    const chain = { ...base, ...deployment };
    const a = actors(chain);
    // The router's account (secret CHAIN_SIGNER_KEY) is registered as a router by the contracts' admin.
    const router = privateKeyToAccount(env.CHAIN_SIGNER_KEY as Hex).address;
    await a.sessionWrite(a.admin, "addRouter", [router, "this edge router"]);
    const { model } = await minersFor(["fastB"]);
    const edgeSessionId = await createSession({ model, redundancy: 1 });
    await a.sessionWrite(a.owner, "create", ["hybrid, written back", "", a.owner, 1n, 1n, 1n, 0n, 1n, false]);
    await a.queueWrite(a.owner, "submitTask", [0n, JSON.stringify({ type: "chat", message: "Hello" })]);

    const target = targetFor(chain, { confirmations: 0, hybridSessions: { "0": edgeSessionId }, writeback: true });
    const index = indexOf(target);
    await settle(target);
    const dispatched = await index.task(0, 0);
    expect(dispatched?.dispatch).toMatchObject({ status: "answered", writeback: { status: "done", error: null } });

    const [miners, results] = await a.getTaskResults(0n, 0n);
    expect(miners).toEqual([router]);
    expect(results).toEqual([dispatched?.dispatch?.result]);

    // The next tick reads what the write-back emitted.
    await settle(target);
    const ended = await index.task(0, 0);
    expect(ended).toMatchObject({ status: "ended", results: { miners: [router.toLowerCase()], results: [dispatched?.dispatch?.result] } });
    expect(ended?.history.map((e) => e.event)).toContain("TaskEnded");
    // Nothing written twice: one TaskEnded, one commit.
    expect(ended?.history.filter((e) => e.event === "TaskEnded" || e.event === "TaskCommitted")).toHaveLength(2);
  });

  it("records a task answered by signing miners in ONE transaction, under the miners' own addresses, with each seed event per miner", async () => {
    const chain = await freshChain();
    const a = actors(chain);
    const router = privateKeyToAccount(env.CHAIN_SIGNER_KEY as Hex).address;
    await a.sessionWrite(a.admin, "addRouter", [router, "this edge router"]);
    const names = ["signedA", "signedB", "signedC"] as const;
    const { model, keys } = await minersFor([...names], { registered: [...names] });
    const minerAddresses = names.map((n) => privateKeyToAccount(keys[n] as Hex).address);
    const edgeSessionId = await createSession({ model, redundancy: 3, max_nodes: 3, signatures: "require", commit_policy: "all" });
    await a.sessionWrite(a.owner, "create", ["hybrid, attributed", "", a.owner, 1n, 1n, 1n, 0n, 1n, false]);
    const target = targetFor(chain, { confirmations: 0, hybridSessions: { "0": edgeSessionId }, writeback: true });
    const index = indexOf(target);
    const nonce = () => a.reader.getTransactionCount({ address: router, blockTag: "latest" });

    // The first write-back also declares, once, the router identity the miners sign for (the receipt signer).
    await a.queueWrite(a.owner, "submitTask", [0n, JSON.stringify({ type: "chat", message: "Hello" })]);
    const before = await nonce();
    await settle(target);
    expect((await index.task(0, 0))?.dispatch).toMatchObject({ status: "answered", writeback: { status: "done", error: null } });
    expect(await nonce()).toBe(before + 2);
    const declared = await a.reader.readContract({ address: chain.queueAddress, abi: sessionQueueV2Abi, functionName: "resultSigner", args: [router] });
    expect(declared).toBe(privateKeyToAccount(TEST_ROUTER_SIGNER_KEY).address);

    // Every later task: one transaction from queued to ended.
    await a.queueWrite(a.owner, "submitTask", [0n, JSON.stringify({ type: "chat", message: "Hello again" })]);
    const second = await nonce();
    await settle(target);
    const dispatched = await index.task(0, 1);
    expect(dispatched?.dispatch).toMatchObject({ status: "answered", writeback: { status: "done", error: null } });
    expect(await nonce()).toBe(second + 1);

    const [miners, results] = await a.getTaskResults(0n, 1n);
    expect([...miners].sort()).toEqual([...minerAddresses].sort());
    const receipt = ReceiptSchema.parse(await (await admin(`/api/v1/tasks/${edgeSessionId}/${dispatched?.dispatch?.edge_task_id}/receipt`, "GET")).json());
    // Each result is the output its miner signed, as the receipt has it.
    for (const [i, m] of miners.entries()) expect(results[i]).toBe(receipt.miners.find((r) => r.address === m)?.output);
    expect(results).toContain(dispatched?.dispatch?.result);
    expect((await a.getTasks(0n))[1]?.status).toBe(ENDED);

    // The seed's per-miner events name each miner; the index reads them on its next tick.
    const last = await a.reader.getBlockNumber();
    for (const eventName of ["TaskAcked", "TaskPrecommitted", "TaskCommitted"] as const) {
      const logs = await a.reader.getContractEvents({ address: chain.queueAddress, abi: sessionQueueV2Abi, eventName, fromBlock: last, toBlock: last });
      expect(logs.map((l) => (l.args as { miner: Address }).miner).sort(), eventName).toEqual([...minerAddresses].sort());
    }
    await settle(target);
    const ended = await index.task(0, 1);
    expect(ended?.status).toBe("ended");
    expect(ended?.results?.miners.slice().sort()).toEqual(minerAddresses.map((m) => m.toLowerCase()).sort());
  });

  it("reverts a result under a miner's address that the miner did not sign, writing nothing; a genuine signature is accepted once", async () => {
    const chain = await freshChain();
    const a = actors(chain);
    await a.sessionWrite(a.admin, "addRouter", [a.router, "a router"]);
    const { keys } = await minersFor(["signedA"], { registered: ["signedA"] });
    const minerKey = keys.signedA as Hex;
    const miner = privateKeyToAccount(minerKey).address;
    await a.sessionWrite(a.owner, "create", ["hybrid", "", a.owner, 1n, 1n, 1n, 0n, 1n, false]);
    await a.queueWrite(a.owner, "submitTask", [0n, "task 0"]);
    await a.queueWrite(a.owner, "submitTask", [0n, "task 1"]);

    const request = "ab".repeat(32);
    const claim = { router: a.router, edgeSessionId: 7n, edgeTaskId: 3n, requestHash: `0x${request}` as Hex };
    const signedBy = (key: Hex, output: string) =>
      privateKeyToAccount(key).signMessage({
        message: resultMessage({ router: a.router, sessionId: 7, taskId: 3, requestHash: request, outputHash: sha256(stringToHex(output)).slice(2) }),
      });
    type Answer = { miner: Address; result: string; signature: Hex };
    const record = (taskId: bigint, answers: Answer[]) => a.queueWrite(a.router, "recordTask", [0n, taskId, claim, answers]);
    // The revert's reason, as a call from the router's account gets it.
    const reasonOf = (taskId: bigint, answers: Answer[]) =>
      a.reader.simulateContract({ account: a.router, address: chain.queueAddress, abi: sessionQueueV2Abi, functionName: "recordTask", args: [0n, taskId, claim, answers] });

    // Forged: another key's signature, the miner's signature of another output, no signature at all.
    const forgeries: Answer[][] = [
      [{ miner, result: "forged", signature: await signedBy(generatePrivateKey(), "forged") }],
      [{ miner, result: "forged", signature: await signedBy(minerKey, "the real answer") }],
      [{ miner, result: "forged", signature: "0x" }],
    ];
    for (const forged of forgeries) {
      await expect(reasonOf(0n, forged)).rejects.toThrow(/result not signed by its miner/);
      await expect(record(0n, forged)).rejects.toThrow(/reverted/);
    }
    expect((await a.getTasks(0n))[0]?.status).toBe(0);
    expect(await a.getTaskResults(0n, 0n)).toEqual([[], []]);

    // The miner's own signature of the text it signs off chain verifies on chain: the Solidity rebuilds it exactly.
    await record(0n, [{ miner, result: "the real answer", signature: await signedBy(minerKey, "the real answer") }]);
    expect(await a.getTaskResults(0n, 0n)).toEqual([[miner], ["the real answer"]]);
    expect((await a.getTasks(0n))[0]?.status).toBe(ENDED);
    // The same signature never records a second on-chain task; the router's own unsigned word goes under its own account.
    await expect(reasonOf(1n, [{ miner, result: "the real answer", signature: await signedBy(minerKey, "the real answer") }])).rejects.toThrow(/signature already recorded/);
    await record(1n, [{ miner: a.router, result: "the router's word", signature: "0x" }]);
    expect(await a.getTaskResults(0n, 1n)).toEqual([[a.router], ["the router's word"]]);
  });

  it("dispatch leaves the tick: a tick queues the task and returns; a slow edge task runs by the alarm while ticks go on reading the chain", async () => {
    const chain = await freshChain();
    const a = actors(chain);
    const { model } = await minersFor(["slow"]);
    const edgeSessionId = await createSession({ model, redundancy: 1 });
    await a.sessionWrite(a.owner, "create", ["hybrid, slow", "", a.owner, 1n, 1n, 1n, 0n, 1n, false]);
    await a.queueWrite(a.owner, "submitTask", [0n, JSON.stringify({ type: "chat", message: "Take your time" })]);
    const target = targetFor(chain, { confirmations: 0, hybridSessions: { "0": edgeSessionId } });
    const index = indexOf(target);

    // The tick reads the task, queues it and makes dispatch due; it does not run it.
    const { last } = await tickUntilCaughtUp(target);
    expect(last.outcome).toBe("caught_up");
    expect((await index.task(0, 0))?.dispatch).toMatchObject({ status: "pending", attempts: 0, edge_task_id: null });
    const work = await index.workState();
    expect(work?.pending_dispatches).toBe(1);

    // The alarm (run now, or already running on its own) takes the dispatch: the slow miner answers after 2.5 s.
    const alarm = runDurableObjectAlarm(index);
    await until(async () => (await index.workState())?.running.includes("dispatch"));
    // Meanwhile the chain moves on, and ticks read it at once.
    await a.sessionWrite(a.owner, "create", ["created while the edge task runs", "", a.owner, 1n, 1n, 1n, 0n, 0n, false]);
    const during = await tickUntilCaughtUp(target);
    expect(during.last.outcome).toBe("caught_up");
    expect((await index.sessions({ limit: 10 })).map((s) => s.name)).toContain("created while the edge task runs");
    // The dispatch was still running all along: the tick did not wait for it.
    expect((await index.workState())?.running).toContain("dispatch");
    expect((await index.task(0, 0))?.dispatch?.status).toBe("pending");

    await alarm;
    const answered = await until(async () => {
      const d = (await index.task(0, 0))?.dispatch;
      return d?.status === "answered" ? d : null;
    }, 400);
    expect(answered.result).toMatch(/\S/);
  });

  it("writes back the tasks answered together in ONE recordTasks transaction, each ended once", async () => {
    const chain = await freshChain();
    const a = actors(chain);
    const router = privateKeyToAccount(env.CHAIN_SIGNER_KEY as Hex).address;
    await a.sessionWrite(a.admin, "addRouter", [router, "this edge router"]);
    const { model } = await minersFor(["fastB"]);
    const edgeSessionId = await createSession({ model, redundancy: 1 });
    await a.sessionWrite(a.owner, "create", ["hybrid, batched", "", a.owner, 1n, 1n, 1n, 0n, 1n, false]);
    for (const message of ["one", "two", "three"]) await a.queueWrite(a.owner, "submitTask", [0n, JSON.stringify({ type: "chat", message })]);
    const target = targetFor(chain, { confirmations: 0, hybridSessions: { "0": edgeSessionId }, writeback: true });
    const index = indexOf(target);
    const nonce = () => a.reader.getTransactionCount({ address: router, blockTag: "latest" });
    const before = await nonce();

    await settle(target);
    const dispatches = await Promise.all([0, 1, 2].map(async (t) => (await index.task(0, t))?.dispatch));
    for (const d of dispatches) expect(d).toMatchObject({ status: "answered", writeback: { status: "done", error: null } });
    // One recordTasks for the three (answered in one dispatch turn, their write-backs fell due together), after the
    // chain account's one declaration of the router identity the receipts name.
    expect(await nonce()).toBe(before + 2);
    const transaction = dispatches[0]?.writeback?.transaction;
    expect(dispatches.map((d) => d?.writeback?.transaction)).toEqual([transaction, transaction, transaction]);
    const sent = await a.reader.getTransaction({ hash: transaction as Hex });
    expect(decodeFunctionData({ abi: sessionQueueV2Abi, data: sent.input }).functionName).toBe("recordTasks");
    for (const t of [0, 1, 2]) {
      const task = await index.task(0, t);
      expect(task?.status).toBe("ended");
      expect(task?.history.filter((e) => e.event === "TaskEnded").map((e) => e.tx_hash)).toEqual([transaction]);
    }
  });
});
