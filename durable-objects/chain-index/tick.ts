import { BlockNotFoundError } from "viem";
import type { ChainTarget } from "../../domain/config/config";
import { decodeChainLog } from "../../domain/chain/decode-log";
import { enrichmentCalls, enrichmentFor } from "../../domain/chain/enrich";
import { CallBudgetSpent, describeError, isRangeRejection, tickClient } from "../../domain/chain/rpc";
import type { IndexStore, ReadLog } from "./index-store";

export type TickReport = {
  /** caught_up: nothing confirmed is left to read; behind: the tick's budget ran out first; failed: an RPC failure (cursor kept); stopped: needs an admin resync. */
  outcome: "caught_up" | "behind" | "failed" | "stopped";
  cursor: number;
  head: number | null;
  safeHead: number | null;
  added: number;
  calls: number;
  error?: string;
};

type Client = ReturnType<typeof tickClient>;

async function hashAt(rpc: Client, number: number): Promise<string | null> {
  rpc.reserve(1);
  try {
    const block = await rpc.client.getBlock({ blockNumber: BigInt(number) });
    return block.hash?.toLowerCase() ?? null;
  } catch (err) {
    // A chain that reorganised to fewer blocks no longer has it.
    if (err instanceof BlockNotFoundError) return null;
    throw err;
  }
}

/**
 * Compares the stored hashes with the chain: none differs ("none"), or the
 * highest stored block that still matches (the common ancestor), or none
 * matches within the kept window ("too_deep"). A reorg changes a suffix of
 * the chain, so matching is monotone and a binary search over the stored
 * hashes finds the ancestor in log2(window) calls.
 */
async function findReorg(store: IndexStore, rpc: Client): Promise<"none" | "too_deep" | { ancestor: number }> {
  const hashes = store.hashes();
  const top = hashes.at(-1);
  if (!top) return "none";
  if ((await hashAt(rpc, top.number)) === top.hash) return "none";
  let lo = 0;
  let hi = hashes.length - 2;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const stored = hashes[mid] as { number: number; hash: string };
    if ((await hashAt(rpc, stored.number)) === stored.hash) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  const ancestor = hashes[best];
  return ancestor ? { ancestor: ancestor.number } : "too_deep";
}

/**
 * One tick of the indexer: check the chain id and head, detect a reorg of
 * indexed blocks, then read confirmed block ranges from the cursor until
 * caught up or the tick's call budget is spent. Each range is committed
 * whole or not at all, so a tick that fails anywhere keeps a cursor with
 * nothing skipped behind it.
 */
export async function runTick(store: IndexStore, target: ChainTarget, now: number): Promise<TickReport> {
  const state = store.open(target);
  if (state.status === "stopped")
    return { outcome: "stopped", cursor: state.cursor, head: state.head, safeHead: state.safe_head, added: 0, calls: 0, error: state.stop_reason ?? undefined };
  const rpc = tickClient(target, target.maxCallsPerTick);
  let added = 0;
  let head: number | null = null;
  let safeHead: number | null = null;
  const report = (outcome: TickReport["outcome"], error?: string): TickReport => ({
    outcome,
    cursor: store.state()?.cursor ?? state.cursor,
    head,
    safeHead,
    added,
    calls: rpc.spent,
    ...(error ? { error } : {}),
  });
  try {
    rpc.reserve(2);
    const chainId = await rpc.client.getChainId();
    if (chainId !== target.chainId) {
      const error = `the RPC provider serves chain ${chainId}, but CHAIN_ID is ${target.chainId}`;
      store.failed(error, now);
      return report("failed", error);
    }
    head = Number(await rpc.client.getBlockNumber({ cacheTime: 0 }));
    safeHead = head - target.confirmations;
    store.observedHead(head, safeHead, now);

    const reorg = await findReorg(store, rpc);
    if (reorg === "too_deep") {
      const reason = `reorg deeper than the ${target.reorgWindow}-block window kept: no stored block hash matches the chain; an admin resync is needed`;
      store.stop(reason, now);
      return report("stopped", reason);
    }
    if (reorg !== "none") store.rewind(reorg.ancestor);

    let ranges = 0;
    for (;;) {
      const current = store.state();
      if (!current || current.cursor >= safeHead) break;
      rpc.reserve(2);
      const from = current.cursor + 1;
      const to = Math.min(safeHead, from + current.range_size - 1);
      let logs: Awaited<ReturnType<typeof rpc.client.getLogs>>;
      try {
        logs = await rpc.client.getLogs({ address: [target.sessionAddress, target.queueAddress], fromBlock: BigInt(from), toBlock: BigInt(to) });
      } catch (err) {
        // The provider refused the range: halve it and ask again (it grows back after each success).
        if (isRangeRejection(err) && current.range_size > 1) {
          store.setRangeSize(Math.max(1, Math.floor(current.range_size / 2)));
          continue;
        }
        throw err;
      }
      const toHash = await hashAt(rpc, to);
      if (!toHash) throw new Error(`block ${to} vanished while it was read (a reorg in progress)`);
      const decoded = logs.map((log) => ({ log, decoded: decodeChainLog(target, log) }));
      const enrichments = decoded.reduce((n, d) => n + (d.decoded.ok ? enrichmentCalls(d.decoded.contract, d.decoded.eventName) : 0), 0);
      try {
        rpc.reserve(enrichments);
      } catch (err) {
        if (!(err instanceof CallBudgetSpent) || ranges > 0) throw err;
        // Not even the tick's first range fits its budget: narrower ranges from now on, and a
        // single block is read whatever it costs (it could never be read otherwise).
        if (current.range_size > 1) {
          store.setRangeSize(Math.max(1, Math.floor(current.range_size / 2)));
          throw err;
        }
      }
      const read: ReadLog[] = [];
      for (const { log, decoded: d } of decoded) {
        if (!d.ok) {
          read.push({ ok: false, log, error: d.error });
          continue;
        }
        const extra = await enrichmentFor(rpc.client, target, d.contract, d.eventName, d.args, log.blockNumber ?? BigInt(to));
        read.push({ ok: true, log, contract: d.contract, eventName: d.eventName, args: d.args, extra });
      }
      added += store.commitRange(to, toHash, read, target);
      ranges++;
      // A full range the provider took: try twice as wide next (a clipped one says nothing about wider ranges).
      if (to - from + 1 === current.range_size && current.range_size < target.maxBlockRange) store.setRangeSize(Math.min(target.maxBlockRange, current.range_size * 2));
    }
    store.succeeded(now);
    return report("caught_up");
  } catch (err) {
    if (err instanceof CallBudgetSpent) {
      store.succeeded(now);
      return report("behind");
    }
    const error = describeError(err);
    store.failed(error, now);
    return report("failed", error);
  }
}
