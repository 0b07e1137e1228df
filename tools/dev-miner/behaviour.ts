import { prng } from "./prng.ts";
import { SIGN_AS, type SignAs } from "./sign.ts";

/** Faults and timing of a dev miner; all can be changed at run time through POST /dev/config. */
export type DevMinerBehaviour = {
  /** Delay before the first byte of an answer. */
  latencyMs: number;
  /** Probability (0..1) of answering HTTP 500. */
  errorRate: number;
  /** Probability (0..1) of answering with a wrong (disagreeing) text. */
  wrongRate: number;
  /** Accept requests and never answer. */
  hang: boolean;
  /**
   * Hold each request until POST /dev/release, then answer as usual: a
   * miner whose answer a test lets through exactly when it wants, with no
   * clock involved.
   */
  hold: boolean;
  /** Delay between streamed chunks. */
  streamChunkDelayMs: number;
  /**
   * For off-chain tasks (the router's `cortensor` extension): answer 202 at
   * once and deliver the result later to the router's result URL.
   */
  deferResults: boolean;
  /**
   * How it answers a verdict request (JSON mode, a prompt asking for a
   * "verdict"): "auto" judges the claim (INVALID when it says "wrong" or
   * "false", else VALID; a wrong-answer roll flips it), a verdict name always
   * gives that verdict, "malformed" answers prose instead of JSON.
   */
  verdict: "auto" | "VALID" | "INVALID" | "NEEDS_SPEC" | "RETRY" | "malformed";
  /** Byzantine "appender": the correct text with this appended (e.g. an injected instruction). */
  appendText: string;
  /**
   * Colluding miners share a group name: their wrong answers are drawn from
   * the group's variant, so every member returns the same wrong text.
   */
  colludeGroup: string;
  /** Answers 200 with a body that is no completion at all. */
  garbage: boolean;
  /** Pads every answer's text to at least this many bytes (0 = off). */
  hugeBodyBytes: number;
  /** A prompt containing this string crashes the miner: HTTP 500 (empty = off). */
  poison: string;
  /** Context window in words: a longer prompt is refused 400 `context_length_exceeded`, as vLLM does (0 = unlimited). */
  contextWords: number;
  /** How it signs results when it has a key (`--signer-key`): right, other-key, other-output or none. */
  signAs: SignAs;
  /**
   * Byzantine "inflator": answers honestly but reports this usage instead of
   * its own count (non-stream, stream and off-chain answers alike); null =
   * its honest count.
   */
  reportUsage: ReportedUsage | null;
};

export type ReportedUsage = { prompt_tokens: number; completion_tokens: number };

/** The usage a dev miner reports: its honest count, or the behaviour's override. */
export function usageToReport(behaviour: DevMinerBehaviour, honest: ReportedUsage) {
  const u = behaviour.reportUsage ?? honest;
  return { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.prompt_tokens + u.completion_tokens };
}

export const DEFAULT_BEHAVIOUR: DevMinerBehaviour = {
  latencyMs: 0,
  errorRate: 0,
  wrongRate: 0,
  hang: false,
  hold: false,
  streamChunkDelayMs: 2,
  deferResults: false,
  verdict: "auto",
  appendText: "",
  colludeGroup: "",
  garbage: false,
  hugeBodyBytes: 0,
  poison: "",
  contextWords: 0,
  signAs: "right",
  reportUsage: null,
};

export function mergeBehaviour(base: DevMinerBehaviour, patch: Record<string, unknown>): DevMinerBehaviour {
  const next = { ...base };
  const num = (v: unknown, min: number, max: number) => (typeof v === "number" && Number.isFinite(v) && v >= min && v <= max ? v : undefined);
  const latency = num(patch["latencyMs"], 0, 600_000);
  if (latency !== undefined) next.latencyMs = latency;
  const chunk = num(patch["streamChunkDelayMs"], 0, 60_000);
  if (chunk !== undefined) next.streamChunkDelayMs = chunk;
  const err = num(patch["errorRate"], 0, 1);
  if (err !== undefined) next.errorRate = err;
  const wrong = num(patch["wrongRate"], 0, 1);
  if (wrong !== undefined) next.wrongRate = wrong;
  if (typeof patch["hang"] === "boolean") next.hang = patch["hang"];
  if (typeof patch["hold"] === "boolean") next.hold = patch["hold"];
  if (typeof patch["deferResults"] === "boolean") next.deferResults = patch["deferResults"];
  const huge = num(patch["hugeBodyBytes"], 0, 64 * 1024 * 1024);
  if (huge !== undefined) next.hugeBodyBytes = huge;
  const context = num(patch["contextWords"], 0, 10_000_000);
  if (context !== undefined) next.contextWords = context;
  if (typeof patch["garbage"] === "boolean") next.garbage = patch["garbage"];
  if (typeof patch["appendText"] === "string") next.appendText = patch["appendText"];
  if (typeof patch["colludeGroup"] === "string") next.colludeGroup = patch["colludeGroup"];
  if (typeof patch["poison"] === "string") next.poison = patch["poison"];
  if (SIGN_AS.includes(patch["signAs"] as SignAs)) next.signAs = patch["signAs"] as SignAs;
  if ("reportUsage" in patch) next.reportUsage = reportUsageOf(patch["reportUsage"]);
  const verdicts = ["auto", "VALID", "INVALID", "NEEDS_SPEC", "RETRY", "malformed"] as const;
  if (verdicts.includes(patch["verdict"] as DevMinerBehaviour["verdict"])) next.verdict = patch["verdict"] as DevMinerBehaviour["verdict"];
  return next;
}

/** A `reportUsage` patch: two non-negative numbers (any size: it is a lie on purpose), or null for the honest count. */
function reportUsageOf(v: unknown): ReportedUsage | null {
  if (!v || typeof v !== "object") return null;
  const { prompt_tokens, completion_tokens } = v as Record<string, unknown>;
  const ok = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n) && n >= 0;
  return ok(prompt_tokens) && ok(completion_tokens) ? { prompt_tokens, completion_tokens } : null;
}

/** Decides per request, reproducibly for a given seed, whether to fail or answer wrongly. */
export function faultDice(seed: number) {
  const random = prng(seed);
  return (behaviour: DevMinerBehaviour) => {
    const roll = random();
    if (behaviour.errorRate > 0 && roll < behaviour.errorRate) return "error" as const;
    const roll2 = random();
    if (behaviour.wrongRate > 0 && roll2 < behaviour.wrongRate) return "wrong" as const;
    return "correct" as const;
  };
}
