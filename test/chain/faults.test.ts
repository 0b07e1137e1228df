import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createPublicClient, http, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { receiptAnchorAbi, sessionQueueV2Abi } from "../../contracts/artifacts";
import { deployContracts } from "../../tools/dev-chain/deploy";
import { createSession, minersFor } from "../helpers";
import type { Fault } from "../../tools/dev-chain/fault-proxy";
import { actors, anchorTargetFor, chains, indexOf, settle, targetFor, tickUntilCaughtUp } from "./chain-helpers";

/**
 * The indexer behind the JSON-RPC fault proxy (test/setup starts it in front
 * of the `faulty` chain): ranges refused as too large, 429s, 500s and calls
 * that never answer. Whatever it meets, it ends with exactly the logs of one
 * full-range read of the chain itself.
 */
const chain = chains().faulty;
const direct = { ...chain, url: chain.directUrl };

async function setFaults(config: { maxRange?: number | null; plan?: Fault[]; loseAnswerTo?: string; dropCallTo?: string; delayMs?: number }) {
  const res = await fetch(`${chain.url}/__faults`, { method: "POST", body: JSON.stringify(config) });
  return (await res.json()) as { injected: Record<string, number> };
}
const injected = async () => ((await (await fetch(`${chain.url}/__faults`)).json()) as { injected: Record<string, number> }).injected;

describe("chain indexer against an unreliable provider", () => {
  it("shrinks its range, retries failed ticks and ends with exactly the logs of one full-range read, no gaps, no duplicates", async () => {
    const a = actors(direct);
    for (let i = 0; i < 12; i++) {
      await a.sessionWrite(a.owner, "create", [`session ${i}`, "", a.owner, 1n, 1n, 1n, 0n, 0n, false]);
      await a.queueWrite(a.owner, "submitTask", [BigInt(i), `task of ${i}`]);
    }
    const target = targetFor(chain, { confirmations: 0, maxBlockRange: 64, rpcTimeoutMs: 400, maxCallsPerTick: 12 });
    await setFaults({ maxRange: 4, plan: ["429", "ok", "500", "ok", "ok", "timeout", "ok", "ok", "ok", "429", "ok", "ok", "ok", "ok", "500", "timeout"] });
    const { reports } = await tickUntilCaughtUp(target, 200);

    const seen = await injected();
    for (const kind of ["range", "429", "500", "timeout"]) expect(seen[kind], kind).toBeGreaterThan(0);
    expect(reports.some((r) => r.outcome === "failed")).toBe(true);
    const index = indexOf(target);
    const state = await index.state();
    expect(state?.range_size).toBeLessThanOrEqual(8);

    const safeHead = reports.at(-1)?.safeHead ?? 0;
    const client = createPublicClient({ transport: http(chain.directUrl) });
    const logs = await client.getLogs({
      address: [chain.sessionAddress as Address, chain.queueAddress as Address],
      fromBlock: BigInt(chain.startBlock),
      toBlock: BigInt(safeHead),
    });
    const events = await index.events({ limit: 1000 });
    expect(events.map((e) => [e.block_number, e.log_index, e.tx_hash])).toEqual(logs.map((l) => [Number(l.blockNumber), l.logIndex, l.transactionHash]));
    expect(state?.undecodable_logs).toBe(0);

    // The provider takes wide ranges again: the range grows back.
    await setFaults({ maxRange: null, plan: [] });
    for (let i = 0; i < 20; i++) await a.sessionWrite(a.owner, "deposit", [0n], 1n);
    await tickUntilCaughtUp(target);
    expect((await index.state())?.range_size).toBeGreaterThan(8);
  });

  it("through dropped, delayed, lost and failing calls, hybrid write-back ends each task once and receipt anchoring posts each root once", async () => {
    const deployment = await deployContracts(direct.url, direct.chainId, direct.accounts[0] as Address);
    const fresh = { ...direct, ...deployment };
    const a = actors(fresh);
    const router = privateKeyToAccount(env.CHAIN_SIGNER_KEY as Hex).address;
    await a.sessionWrite(a.admin, "addRouter", [router, "this edge router"]);
    const { model } = await minersFor(["fastB"]);
    const edgeSessionId = await createSession({ model, redundancy: 1 });
    await a.sessionWrite(a.owner, "create", ["hybrid, unreliable provider", "", a.owner, 1n, 1n, 1n, 0n, 1n, false]);
    for (let i = 0; i < 5; i++) await a.queueWrite(a.owner, "submitTask", [0n, JSON.stringify({ type: "chat", message: `question ${i}` })]);

    // The index, its dispatch and its write-back all go through the proxy.
    const target = targetFor({ ...fresh, url: chain.url }, { confirmations: 0, hybridSessions: { "0": edgeSessionId }, writeback: true, rpcTimeoutMs: 800 });
    const plan: Fault[] = ["ok", "500", "ok", "ok", "timeout", "ok", "delay", "ok", "ok", "429", "ok", "delay", "ok", "ok", "timeout", "ok", "500", "ok", "delay"];
    await setFaults({ plan, loseAnswerTo: "eth_sendRawTransaction", delayMs: 1_200 });
    try {
      await settle(target);
      const seen = await injected();
      for (const kind of ["lost", "delay", "timeout", "500", "429"]) expect(seen[kind], kind).toBeGreaterThan(0);
    } finally {
      await setFaults({});
    }
    const index = indexOf(target);
    for (let t = 0; t < 5; t++) expect((await index.task(0, t))?.dispatch, `task ${t}`).toMatchObject({ status: "answered", writeback: { status: "done" } });
    const ended = await a.reader.getContractEvents({ address: fresh.queueAddress, abi: sessionQueueV2Abi, eventName: "TaskEnded", fromBlock: BigInt(fresh.startBlock) });
    const perTask = ended.map((l) => Number((l.args as { taskId: bigint }).taskId)).sort();
    expect(perTask).toEqual([0, 1, 2, 3, 4]);

    // Receipt anchoring through the same provider: two batches, each root posted once.
    const anchorTarget = anchorTargetFor({ ...fresh, url: chain.url }, { batchSize: 3, rpcTimeoutMs: 800 });
    const anchors = env.CHAIN_INDEX.get(env.CHAIN_INDEX.idFromName(`anchor-test:faults:${crypto.randomUUID()}`));
    const leaf = () => `0x${crypto.randomUUID().replaceAll("-", "").padEnd(64, "c")}`;
    for (const [round, faults] of [
      [0, { plan: ["timeout", "ok", "delay", "500"] as Fault[], loseAnswerTo: "eth_sendRawTransaction", delayMs: 1_200 }],
      [1, { plan: ["ok", "429", "delay"] as Fault[], dropCallTo: "eth_sendRawTransaction", delayMs: 1_200 }],
    ] as const) {
      for (let i = 0; i < 3; i++) await anchors.queueReceipt(anchorTarget, 9, round * 3 + i, leaf());
      await setFaults(faults);
      try {
        const posted = async () => (await anchors.anchorBatches()).filter((b) => b.tx_hash).length > round;
        for (let attempt = 0; attempt < 20 && !(await posted()); attempt++) await anchors.flushAnchors({ force: true });
        expect(await posted()).toBe(true);
        expect((await injected())[round === 0 ? "lost" : "timeout"]).toBeGreaterThan(0);
      } finally {
        await setFaults({});
      }
    }
    const batches = await anchors.anchorBatches();
    expect(batches.map((b) => b.count)).toEqual([3, 3]);
    const logs = await a.reader.getContractEvents({ address: fresh.anchorAddress, abi: receiptAnchorAbi, eventName: "ReceiptsAnchored", fromBlock: BigInt(fresh.startBlock) });
    expect(logs.map((l) => (l.args as { root: string }).root).sort()).toEqual(batches.map((b) => b.root).sort());
    expect(logs.map((l) => l.transactionHash).sort()).toEqual(batches.map((b) => b.tx_hash).sort());
  });
});
