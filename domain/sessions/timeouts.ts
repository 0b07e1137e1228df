import { fieldError } from "../errors.ts";
import { MIN_PRECOMMIT_TIMEOUT_S, MIN_TIMEOUT_S } from "../schemas/timeouts.ts";

/**
 * A task's timeouts in seconds: the client's, else the configured default;
 * the precommit phase defaults to three quarters of the task. Refused here,
 * before any state is written, when the configuration forbids them or they
 * are below the minimum a miner needs (`schemas/timeouts.ts`): every route's
 * schema refuses those already, and this holds for timeouts a route derived
 * (tiers, trial bounds) as well.
 */
export function taskTimeouts(
  request: { timeout?: number | undefined; precommit_timeout?: number | undefined },
  config: { defaultTimeoutS: number; maxTimeoutS: number },
): { timeoutS: number; precommitS: number } {
  if (request.timeout !== undefined && request.timeout > config.maxTimeoutS) {
    throw fieldError("timeout", `must be at most ${config.maxTimeoutS} seconds`);
  }
  const timeoutS = request.timeout ?? Math.min(config.defaultTimeoutS, config.maxTimeoutS);
  const precommitS = request.precommit_timeout ?? timeoutS * 0.75;
  if (timeoutS < MIN_TIMEOUT_S) throw fieldError("timeout", `must be at least ${MIN_TIMEOUT_S} seconds`);
  if (precommitS < MIN_PRECOMMIT_TIMEOUT_S) throw fieldError("precommit_timeout", `must be at least ${MIN_PRECOMMIT_TIMEOUT_S} seconds`);
  if (precommitS >= timeoutS) throw fieldError("timeout", "must exceed precommit_timeout");
  return { timeoutS, precommitS };
}
