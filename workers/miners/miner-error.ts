/** Why a call to a miner did not give a usable result. */
export type MinerErrorKind = "http" | "network" | "timeout" | "aborted" | "invalid_response";

export class MinerCallError extends Error {
  override readonly name = "MinerCallError";
  constructor(
    readonly kind: MinerErrorKind,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
