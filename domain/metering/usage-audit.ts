import type { MinerRequest } from "../schemas/completion.ts";
import type { Slot } from "../protocol/run-task.ts";
import { meteredPromptTokens, meteredTokens } from "./count-tokens.ts";

/** How many times the bound a report may reach before it is a lie, and the slack for a short text (an end-of-text token, a chat template's few). */
export const MISREPORT_FACTOR = 2;
export const COMPLETION_SLACK = 16;
/** A chat template may wrap a short prompt in a default system prompt of a few dozen tokens. */
export const PROMPT_SLACK = 64;

/**
 * Agreeing miners whose reports a report is compared with, at least: the
 * lower median of two or more moves only with most of them, the coalition
 * that could outvote the miner anyway; one peer alone could frame it.
 */
export const MIN_PEERS = 2;

type Reported = { prompt_tokens: number; completion_tokens: number };

const beyond = (reported: number, bound: number, slack: number) => reported > MISREPORT_FACTOR * bound + slack;

/** The lower median of some figures (no averaging: a single huge figure cannot move it), null when there are none. */
function lowerMedian(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? null;
}

/** The router's own counts a report is judged against: of the prompt sent, of the text the miner gave. */
export type Bounds = { prompt: number; completion: number };

/**
 * Why a miner's reported usage is not believable, or null. Compared with
 * the router's own count (`count-tokens.ts`: UTF-8 bytes, which no
 * tokenizer's count exceeds) of the prompt it was sent and of the text it
 * gave; and with what the other agreeing miners reported for the same
 * answer (`peers`, their completion tokens): more than twice either, plus a
 * slack, is a misreport. Reporting less is never a fault (usage is the
 * router's count whatever a miner says).
 */
export function usageMisreport(bounds: Bounds, reported: Reported, peers: readonly number[] = []): string | null {
  if (beyond(reported.completion_tokens, bounds.completion, COMPLETION_SLACK)) {
    return `reported ${reported.completion_tokens} completion tokens for a text of ${bounds.completion} bytes`;
  }
  if (beyond(reported.prompt_tokens, bounds.prompt, PROMPT_SLACK)) {
    return `reported ${reported.prompt_tokens} prompt tokens for a prompt of ${bounds.prompt} bytes`;
  }
  const median = peers.length >= MIN_PEERS ? lowerMedian(peers) : null;
  if (median !== null && beyond(reported.completion_tokens, median, COMPLETION_SLACK)) {
    return `reported ${reported.completion_tokens} completion tokens where the agreeing miners' median is ${median}`;
  }
  return null;
}

/**
 * Judges every answered slot's reported usage (`Slot.usageMisreport`), the
 * agreeing ones also against each other. It changes no agreement and no
 * answer: a misreport is a fault of the miner (`ReputationReports`), and the
 * usage billed is the router's count either way. `judge`: the slots to
 * judge (a late result alone), against all of `slots`. The prompt is counted
 * once, and each distinct text once (agreeing miners mostly give the same).
 */
export function auditUsage(request: Pick<MinerRequest, "prompt" | "messages">, slots: readonly Slot[], judge: readonly Slot[] = slots): void {
  const reports = judge.filter((s) => s.state === "precommitted" && s.output?.usage);
  if (reports.length === 0) return;
  const prompt = meteredPromptTokens(request);
  const counted: { text: string; bytes: number }[] = [];
  const completionBound = (text: string) => {
    const known = counted.find((c) => c.text === text);
    if (known) return known.bytes;
    const bytes = meteredTokens(text);
    counted.push({ text, bytes });
    return bytes;
  };
  const agreedReports = new Map<number, number>();
  for (const s of slots) {
    if (s.state === "precommitted" && s.agreed && s.output?.usage) agreedReports.set(s.slot, s.output.usage.completion_tokens);
  }
  for (const s of reports) {
    if (!s.output?.usage) continue;
    const peers = s.agreed ? [...agreedReports].flatMap(([slot, n]) => (slot === s.slot ? [] : [n])) : [];
    const misreport = usageMisreport({ prompt, completion: completionBound(s.output.text) }, s.output.usage, peers);
    if (misreport) s.usageMisreport = misreport;
  }
}
