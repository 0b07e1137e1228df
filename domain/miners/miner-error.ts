/** Why a call to a miner did not give a usable result. */
export type MinerErrorKind = "http" | "network" | "timeout" | "aborted" | "invalid_response";

export class MinerCallError extends Error {
  override readonly name = "MinerCallError";
  readonly kind: MinerErrorKind;
  readonly status?: number;
  constructor(kind: MinerErrorKind, message: string, status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.status = status;
  }
}

/** The error for a call that failed: a timeout or cancellation when the call's signal says so, else `fallback`. */
export function abortedOr(signal: AbortSignal, fallback: MinerCallError): MinerCallError {
  if (!signal.aborted) return fallback;
  const reason: unknown = signal.reason;
  const timedOut = reason instanceof Error && reason.name === "TimeoutError";
  return new MinerCallError(timedOut ? "timeout" : "aborted", timedOut ? "miner call timed out" : "miner call cancelled", undefined, { cause: reason });
}
