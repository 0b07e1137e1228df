import { BaseError, createPublicClient, HttpRequestError, http, RpcRequestError, TimeoutError, ContractFunctionRevertedError } from "viem";
import type { ChainTarget } from "../config/config.ts";

/** A tick spent its JSON-RPC calls; it stops where it is and the alarm goes on. */
export class CallBudgetSpent extends Error {
  override readonly name = "CallBudgetSpent";
}

/**
 * A viem client for one tick: no retries of its own (a failed call fails the
 * tick, which keeps its cursor and is retried by the alarm), a timeout per
 * call, and at most `budget` calls (Workers limits subrequests per invocation).
 */
export function tickClient(target: ChainTarget, budget: number) {
  let spent = 0;
  const transport = http(target.rpcUrl, {
    retryCount: 0,
    timeout: target.rpcTimeoutMs,
    onFetchRequest: () => {
      spent++;
    },
  });
  const client = createPublicClient({ transport });
  return {
    client,
    /** Throws CallBudgetSpent unless `calls` more calls fit the tick. */
    reserve(calls: number) {
      if (spent + calls > budget) throw new CallBudgetSpent(`tick budget of ${budget} calls spent`);
    },
    get spent() {
      return spent;
    },
  };
}

/**
 * Whether the provider refused an eth_getLogs for its block range or result
 * size (providers say so in JSON-RPC errors, with codes -32005 or -32602 and
 * wording of their own), as opposed to failing (HTTP 429, 5xx, timeouts).
 */
export function isRangeRejection(err: unknown): boolean {
  if (!(err instanceof BaseError)) return false;
  if (err.walk((e) => e instanceof HttpRequestError && e.status !== undefined) || err.walk((e) => e instanceof TimeoutError)) return false;
  const rpc = err.walk((e) => e instanceof RpcRequestError) as RpcRequestError | null;
  const code = rpc?.code ?? (err as { code?: number }).code;
  const text = `${err.message} ${rpc?.details ?? ""}`;
  return code === -32005 || ((code === -32602 || code === -32000) && /range|too many|too large|limit|exceed|more than|response size/i.test(text));
}

/** Whether a view call was refused by the contract itself (a revert): permanent, unlike a provider failure. */
export function isRevert(err: unknown): boolean {
  return err instanceof BaseError && err.walk((e) => e instanceof ContractFunctionRevertedError) !== null;
}

export function describeError(err: unknown): string {
  if (err instanceof HttpRequestError) return `HTTP ${err.status ?? "error"} from the RPC provider: ${err.shortMessage}`;
  if (err instanceof BaseError) {
    const http = err.walk((e) => e instanceof HttpRequestError) as HttpRequestError | null;
    if (http?.status) return `HTTP ${http.status} from the RPC provider`;
    if (err.walk((e) => e instanceof TimeoutError)) return "the RPC provider did not answer in time";
    return err.shortMessage;
  }
  return err instanceof Error ? err.message : String(err);
}
