import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { sessionQueueV2Abi } from "../../contracts/artifacts";
import { call, createSession, minersFor } from "../helpers";
import { deployContracts } from "../../tools/dev-chain/deploy";
import type { TestChain } from "../setup/global-setup";
import { actors, chains, indexOf, mine, rpc, settle, targetFor, tickUntilCaughtUp } from "./chain-helpers";

/**
 * Reorgs on a chain of their own (evm_snapshot, evm_revert, then other
 * blocks mined in their place), indexed with no confirmations so that the
 * reorged blocks are indexed ones.
 */
const base = chains().reorg;

const create = (chain: TestChain, name: string) => {
  const a = actors(chain);
  return a.sessionWrite(a.owner, "create", [name, "", a.owner, 1n, 1n, 1n, 0n, 0n, false]);
};

async function sessionNames(chain: TestChain) {
  const a = actors(chain);
  const count = Number(await a.sessionCount());
  return Promise.all(Array.from({ length: count }, async (_, i) => (await a.getSession(BigInt(i))).name));
}

describe("chain reorgs", () => {
  it("detects a reorg of indexed blocks, rewinds to the common ancestor and indexes the new branch", async () => {
    const target = targetFor(base, { confirmations: 0, reorgWindow: 32 });
    const index = indexOf(target);
    await create(base, "before the fork");
    await tickUntilCaughtUp(target);
    const snapshot = await rpc<string>(base.url, "evm_snapshot");
    const doomed = [await create(base, "doomed one"), await create(base, "doomed two")];
    await tickUntilCaughtUp(target);
    expect((await index.sessions({ limit: 100 })).map((s) => s.name)).toEqual(["before the fork", "doomed one", "doomed two"]);

    await rpc(base.url, "evm_revert", [snapshot]);
    await create(base, "the other branch");
    await create(base, "and one more");
    await create(base, "and a third, longer than the old branch");
    const { last } = await tickUntilCaughtUp(target);
    expect(last.outcome).toBe("caught_up");

    const state = await index.state();
    expect(state?.reorg_count).toBe(1);
    expect((await index.sessions({ limit: 100 })).map((s) => s.name)).toEqual(await sessionNames(base));
    const txs = new Set((await index.events({ limit: 1000 })).map((e) => e.tx_hash));
    for (const receipt of doomed) expect(txs.has(receipt.transactionHash)).toBe(false);
  });

  it("stops, with the reason in its status, at a reorg deeper than the kept window, until an admin resync", async () => {
    const a = actors(base);
    const deployment = await deployContracts(base.url, base.chainId, a.admin as Address);
    const chain = { ...base, ...deployment };
    const target = targetFor(chain, { confirmations: 0, reorgWindow: 2 });
    const index = indexOf(target);
    await tickUntilCaughtUp(target);
    const snapshot = await rpc<string>(base.url, "evm_snapshot");
    for (const name of ["one", "two", "three", "four"]) {
      await create(chain, name);
      await tickUntilCaughtUp(target);
    }
    await rpc(base.url, "evm_revert", [snapshot]);
    for (const name of ["uno", "dos", "tres", "cuatro", "cinco"]) await create(chain, name);

    const { last } = await tickUntilCaughtUp(target);
    expect(last.outcome).toBe("stopped");
    const stopped = await index.state();
    expect(stopped).toMatchObject({ status: "stopped", stop_reason: expect.stringMatching(/reorg deeper than the 2-block window/) });
    // Still stopped, whatever ticks come.
    expect((await index.tick(target)).outcome).toBe("stopped");

    await index.resync(chain.startBlock);
    const { last: after } = await tickUntilCaughtUp(target);
    expect(after.outcome).toBe("caught_up");
    expect(await index.state()).toMatchObject({ status: "running", stop_reason: null });
    expect((await index.sessions({ limit: 100 })).map((s) => s.name)).toEqual(["uno", "dos", "tres", "cuatro", "cinco"]);
  });
});

describe("chain index alarm", () => {
  it("stops a tick at its call budget and goes on by alarm, with the target it stored, until caught up", async () => {
    const a = actors(base);
    const deployment = await deployContracts(base.url, base.chainId, a.admin as Address);
    const chain = { ...base, ...deployment };
    for (let i = 0; i < 6; i++) await create(chain, `budgeted ${i}`);
    // Ranges of one block and six calls a tick (the least allowed: one block with a SessionCreated): a few blocks take several ticks.
    const target = targetFor(chain, { confirmations: 0, maxBlockRange: 1, maxCallsPerTick: 6 });
    const index = indexOf(target);
    const first = await index.tick(target);
    expect(first.outcome).toBe("behind");
    expect(first.calls).toBeLessThanOrEqual(6);
    const safeHead = first.safeHead ?? 0;
    expect(first.cursor).toBeLessThan(safeHead);

    // No more ticks from here: only the object's alarm.
    for (let i = 0; i < 50 && ((await index.state())?.cursor ?? 0) < safeHead; i++) await runDurableObjectAlarm(index);
    expect((await index.state())?.cursor).toBeGreaterThanOrEqual(safeHead);
    expect((await index.sessions({ limit: 100 })).map((s) => s.name)).toEqual(Array.from({ length: 6 }, (_, i) => `budgeted ${i}`));
  });
});

describe("hybrid tasks across reorgs", () => {
  const fresh = async () => {
    const a = actors(base);
    const deployment = await deployContracts(base.url, base.chainId, a.admin as Address);
    return { ...base, ...deployment };
  };
  const chat = (message: string) => JSON.stringify({ type: "chat", message });
  const taskCount = async (edgeSessionId: number) => ((await (await call(`/api/v1/sessions/${edgeSessionId}`)).json()) as { task_count: number }).task_count;

  it("a reorg that puts other task data in a dispatched task's place runs the new task, under a new request id", async () => {
    const chain = await fresh();
    const a = actors(chain);
    const { model } = await minersFor(["fastA"]);
    const edgeSessionId = await createSession({ model, redundancy: 1 });
    await a.sessionWrite(a.owner, "create", ["hybrid", "", a.owner, 1n, 1n, 1n, 0n, 1n, false]);
    const target = targetFor(chain, { confirmations: 0, reorgWindow: 32, hybridSessions: { "0": edgeSessionId } });
    const index = indexOf(target);
    await settle(target);

    const snapshot = await rpc<string>(base.url, "evm_snapshot");
    const doomed = await a.queueWrite(a.owner, "submitTask", [0n, chat("Hello")]);
    await settle(target);
    const first = (await index.task(0, 0))?.dispatch;
    expect(first).toMatchObject({ status: "answered", queued_tx: doomed.transactionHash });

    // Another branch: task 0 of session 0 is other task data.
    await rpc(base.url, "evm_revert", [snapshot]);
    await mine(base.url, 1);
    const replacing = await a.queueWrite(a.owner, "submitTask", [0n, chat("Bonjour")]);
    await settle(target);
    expect((await index.state())?.reorg_count).toBeGreaterThanOrEqual(1);
    const task = await index.task(0, 0);
    expect(task?.task_data).toBe(chat("Bonjour"));
    expect(task?.dispatch).toMatchObject({ status: "answered", queued_tx: replacing.transactionHash });
    expect(task?.dispatch?.request_id).not.toBe(first?.request_id);
    expect(task?.dispatch?.edge_task_id).not.toBe(first?.edge_task_id);
    // Two edge tasks: the old branch's and the new one's.
    expect(await taskCount(edgeSessionId)).toBe(2);
  });

  it("a written-back task whose blocks a reorg rewinds is written once on the new branch (same content: the same edge task); a reorg above its write-back leaves it", async () => {
    const chain = await fresh();
    const a = actors(chain);
    const router = privateKeyToAccount(env.CHAIN_SIGNER_KEY as Hex).address;
    await a.sessionWrite(a.admin, "addRouter", [router, "this edge router"]);
    const { model } = await minersFor(["fastB"]);
    const edgeSessionId = await createSession({ model, redundancy: 1 });
    await a.sessionWrite(a.owner, "create", ["hybrid, written back", "", a.owner, 1n, 1n, 1n, 0n, 1n, false]);
    const target = targetFor(chain, { confirmations: 0, reorgWindow: 32, hybridSessions: { "0": edgeSessionId }, writeback: true });
    const index = indexOf(target);
    await settle(target);
    const ended = async () =>
      (await a.reader.getContractEvents({ address: chain.queueAddress, abi: sessionQueueV2Abi, eventName: "TaskEnded", fromBlock: BigInt(chain.startBlock) })).map(
        (l) => l.transactionHash,
      );

    const snapshot = await rpc<string>(base.url, "evm_snapshot");
    await a.queueWrite(a.owner, "submitTask", [0n, chat("Hello")]);
    await settle(target);
    const first = (await index.task(0, 0))?.dispatch;
    expect(first).toMatchObject({ status: "answered", writeback: { status: "done" } });
    expect(await ended()).toEqual([first?.writeback?.transaction]);

    // The branch with the task and its record is gone; on the new one the same task is queued a block later.
    await rpc(base.url, "evm_revert", [snapshot]);
    await mine(base.url, 1);
    await a.queueWrite(a.owner, "submitTask", [0n, chat("Hello")]);
    expect(await ended()).toEqual([]);
    await settle(target);
    const again = (await index.task(0, 0))?.dispatch;
    expect(again).toMatchObject({ status: "answered", request_id: first?.request_id, edge_task_id: first?.edge_task_id, writeback: { status: "done" } });
    expect(again?.writeback?.transaction).not.toBe(first?.writeback?.transaction);
    expect(await ended()).toEqual([again?.writeback?.transaction]);
    expect(await taskCount(edgeSessionId)).toBe(1);

    // A reorg of blocks above the write-back: nothing to do again.
    const later = await rpc<string>(base.url, "evm_snapshot");
    await mine(base.url, 2);
    await settle(target);
    await rpc(base.url, "evm_revert", [later]);
    // Other blocks in their place (a transaction in the first, so that none is the same block again).
    await a.sessionWrite(a.owner, "create", ["on the other branch", "", a.owner, 1n, 1n, 1n, 0n, 0n, false]);
    await mine(base.url, 2);
    const reorgs = (await index.state())?.reorg_count ?? 0;
    await settle(target);
    expect((await index.state())?.reorg_count).toBe(reorgs + 1);
    expect((await index.task(0, 0))?.dispatch).toEqual(again);
    expect(await ended()).toEqual([again?.writeback?.transaction]);
  });
});
