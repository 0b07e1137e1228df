import type { PublicClient } from "viem";
import { sessionQueueV2Abi, sessionV2Abi } from "../../contracts/artifacts.ts";
import type { ChainTarget } from "../config/config.ts";
import { toJsonValue, type JsonValue } from "./decode-log.ts";
import { describeError, isRevert } from "./rpc.ts";

/** How many view calls `enrichmentFor` makes for an event (so a tick can reserve them first). */
export function enrichmentCalls(contract: string, eventName: string): number {
  return (contract === "SessionV2" && (eventName === "SessionCreated" || eventName === "SessionUpdated")) || (contract === "SessionQueueV2" && eventName === "TaskEnded") ? 1 : 0;
}

/**
 * What an event's own parameters leave out and the mirror needs, read with
 * the contracts' view functions at the event's block: the seed's
 * SessionCreated carries no name, metadata or settings, SessionUpdated no
 * name or metadata, and TaskEnded no results. A revert is recorded as the
 * event's `error`; a provider failure throws, failing the tick (its cursor kept).
 */
export async function enrichmentFor(
  client: PublicClient,
  target: ChainTarget,
  contract: string,
  eventName: string,
  args: Record<string, JsonValue>,
  blockNumber: bigint,
): Promise<Record<string, JsonValue> | null> {
  if (enrichmentCalls(contract, eventName) === 0) return null;
  try {
    if (contract === "SessionV2") {
      const s = await client.readContract({ address: target.sessionAddress, abi: sessionV2Abi, functionName: "getSession", args: [BigInt(String(args.sessionId))], blockNumber });
      const session = {
        name: s.name,
        metadata: s.metadata,
        minNumOfNodes: s.minNumOfNodes,
        maxNumOfNodes: s.maxNumOfNodes,
        redundant: s.redundant,
        numOfValidatorNodes: s.numOfValidatorNodes,
        mode: s.mode,
        reserveEphemeralNodes: s.reserveEphemeralNodes,
      };
      return { session: toJsonValue(session) };
    }
    const [miners, results] = await client.readContract({
      address: target.queueAddress,
      abi: sessionQueueV2Abi,
      functionName: "getTaskResults",
      args: [BigInt(String(args.sessionId)), BigInt(String(args.taskId))],
      blockNumber,
    });
    return { results: toJsonValue({ miners, results }) };
  } catch (err) {
    if (isRevert(err)) return { error: describeError(err) };
    throw err;
  }
}
