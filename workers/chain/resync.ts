import type { Env } from "../env";
import { ApiError, fieldError } from "../../domain/errors";
import { configuredChainIndex } from "./chain-access";
import { describeError, tickClient } from "../../domain/chain/rpc";

/**
 * An admin's resync, checked against the chain before anything is dropped.
 * A resync reads blocks again: it may start no later than the block after
 * the index's cursor (starting later would skip blocks never read, and the
 * index would report itself caught up over the gap), and never beyond the
 * chain's head as the RPC provider reports it now.
 */
export async function resyncChainIndex(env: Env, requested: number | undefined): Promise<void> {
  const { target, index } = configuredChainIndex(env);
  const fromBlock = Math.max(requested ?? target.startBlock, target.startBlock);
  let head: number;
  try {
    head = Number(await tickClient(target, 1).client.getBlockNumber({ cacheTime: 0 }));
  } catch (err) {
    throw new ApiError(502, "chain_unavailable", `the chain head could not be read: ${describeError(err)}`, undefined, undefined, { cause: err });
  }
  const cursor = (await index.state())?.cursor ?? null;
  const latest = cursor === null ? head : Math.min(head, cursor + 1);
  if (fromBlock > latest) {
    const why = fromBlock > head ? `is beyond the chain head (block ${head})` : `is past what the index has read (cursor ${cursor}); a resync reads blocks again and skips none`;
    const refused = fieldError("from_block", `block ${fromBlock} ${why}; at most ${latest}`);
    throw refused.withDetails({ head, cursor, latest });
  }
  // An index that never ticked has nothing to drop; the tick creates it from the start block.
  if (!(await index.resync(fromBlock))) await index.tick(target);
}
