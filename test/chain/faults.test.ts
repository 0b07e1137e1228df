import { describe, expect, it } from "vitest";
import { createPublicClient, http, type Address } from "viem";
import type { Fault } from "../../tools/dev-chain/fault-proxy";
import { actors, chains, indexOf, targetFor, tickUntilCaughtUp } from "./chain-helpers";

/**
 * The indexer behind the JSON-RPC fault proxy (test/setup starts it in front
 * of the `faulty` chain): ranges refused as too large, 429s, 500s and calls
 * that never answer. Whatever it meets, it ends with exactly the logs of one
 * full-range read of the chain itself.
 */
const chain = chains().faulty;
const direct = { ...chain, url: chain.directUrl };

async function setFaults(config: { maxRange?: number | null; plan?: Fault[] }) {
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
});
