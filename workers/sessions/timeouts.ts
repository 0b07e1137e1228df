import { fieldError } from "../http/errors";

/**
 * A task's timeouts in seconds: the client's, else the configured default;
 * the precommit phase defaults to three quarters of the task. Refused here,
 * before any state is written, when the configuration forbids them.
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
  if (precommitS >= timeoutS) throw fieldError("timeout", "must exceed precommit_timeout");
  return { timeoutS, precommitS };
}
