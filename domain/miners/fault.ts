import { MIN_PRECOMMIT_TIMEOUT_S } from "../schemas/timeouts.ts";
import { MinerCallError } from "./miner-error.ts";

/**
 * Whose fault a failed miner call was. Only "miner" faults count against a
 * miner (reputation, and the run of faults that asks for a health probe);
 * "request" faults are recorded on the task and nowhere else, because the
 * client chose them: a prompt the model cannot take, a deadline no miner
 * could meet.
 */
export type Fault = "miner" | "request";

/**
 * 4xx answers that say something about the miner rather than the request:
 * its credential or model list is wrong (401, 403, 404), or it is
 * overloaded (408, 429). Every other 4xx (400 context length, 413, 422, ...)
 * is the request's.
 */
const MINER_SIDE_4XX = new Set([401, 403, 404, 408, 429]);

/** A failed call (not a timeout): connection refused or reset, a 5xx, a malformed body are the miner's. */
export function faultOf(err: unknown): Fault {
  if (err instanceof MinerCallError && err.kind === "http" && err.status !== undefined) {
    return err.status >= 400 && err.status < 500 && !MINER_SIDE_4XX.has(err.status) ? "request" : "miner";
  }
  return "miner";
}

/** How many times its measured latency a miner is given before missing a deadline is held against it. */
const LATENCY_HEADROOM = 3;
/** What recording and dispatching a task takes before the miner is called: not the miner's time to lose. */
const DISPATCH_SLACK_MS = 250;

/**
 * A missed deadline is the miner's fault only when the router judges the
 * deadline was achievable: the miner had at least the minimum precommit time
 * and three times its measured latency (an unmeasured miner, the minimum).
 * A replacement started just before the deadline, or a request whose size
 * makes a usually quick miner slow, does not count.
 */
export function timeoutFault(budgetMs: number, latencyMs: number | null | undefined): Fault {
  const needed = Math.max(MIN_PRECOMMIT_TIMEOUT_S * 1000, LATENCY_HEADROOM * (latencyMs ?? 0));
  return budgetMs + DISPATCH_SLACK_MS >= needed ? "miner" : "request";
}
