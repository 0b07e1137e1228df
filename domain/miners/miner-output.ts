import { z } from "zod";

/** What a counted result's signature was found to be (`signed-call.ts`). */
export type SignatureStatus = "valid" | "unsigned";

export type MinerOutput = {
  text: string;
  finishReason: string | null;
  /** The usage the miner reported: kept for audit (`metering/usage-audit.ts`), never billed (the router counts its own). */
  usage: ReportedUsage | null;
  latencyMs: number;
  /** The miner's signature of this result, as it sent it (header, last streamed chunk, or off-chain delivery); checked by `signed-call.ts`. */
  signature?: string;
  /** Set by `signed-call.ts` when the session asks for signatures: the signature checked out, or there was none to check. */
  signatureStatus?: SignatureStatus;
};

export type CallMinerOptions = {
  signal: AbortSignal;
  /** Called once the miner answered with a successful status (it accepted the work). */
  onAck?: () => void;
  /** When given, the miner is asked to stream and each piece of text is passed here as it arrives. */
  onDelta?: (piece: string) => void;
  /** Extra top-level fields for the request body (the off-chain extension). */
  extension?: Record<string, unknown>;
  /**
   * When given, a miner may answer 202 `{"delivery": "offchain"}` and deliver
   * its result later through the router; this waits for that delivery.
   */
  awaitDelivery?: () => Promise<Omit<MinerOutput, "latencyMs">>;
  fetcher?: typeof fetch;
  /** Extra request headers (what the miner is asked to sign: `result-signature.ts`). */
  headers?: Record<string, string>;
};

export type ReportedUsage = { prompt_tokens: number; completion_tokens: number };

/** One reported figure as kept: a whole number within the safe range (a report beyond it reads as the largest safe figure: still a misreport, never a float that breaks sums). */
const keptFigure = (n: number) => Math.min(Math.floor(n), Number.MAX_SAFE_INTEGER);

/** A miner's reported figures as the router keeps them (`keptFigure`). */
export const reportedUsage = (u: ReportedUsage): ReportedUsage => ({ prompt_tokens: keptFigure(u.prompt_tokens), completion_tokens: keptFigure(u.completion_tokens) });

/** Any non-negative finite figure (zod's int() stops at 2^53: a lie that large must still be kept and judged). */
export const ReportedFigure = z.number().nonnegative();
