import { z } from "@hono/zod-openapi";

export const VERDICTS = ["VALID", "INVALID", "RETRY", "NEEDS_SPEC"] as const;
export const VerdictNameSchema = z.enum(VERDICTS);
export type VerdictName = z.infer<typeof VerdictNameSchema>;

/** What each miner run must answer: exactly this JSON object, nothing around it. */
export const RunVerdictSchema = z
  .object({
    verdict: VerdictNameSchema,
    confidence: z.number().min(0).max(1),
    reasons: z.array(z.string().max(2000)).max(20).default([]),
    advice: z.string().max(4000).default(""),
    evidence: z.array(z.string().max(4000)).max(20).default([]),
  })
  .strict();
export type RunVerdict = z.infer<typeof RunVerdictSchema>;

/** The JSON schema text given to miners, so that a compliant model can answer. */
export const VERDICT_INSTRUCTIONS = `Answer with one JSON object and nothing else, of the form
{"verdict": "VALID" | "INVALID" | "RETRY" | "NEEDS_SPEC", "confidence": number between 0 and 1, "reasons": [string], "advice": string, "evidence": [string]}
VALID: the claim holds under every rule. INVALID: it breaks at least one rule. NEEDS_SPEC: the rules or the claim are too vague to judge. RETRY: you could not judge it.`;

/**
 * Parses a run's answer strictly: the whole text must be that JSON object.
 * Anything else is a RETRY with the reason, never a guess.
 */
export function parseRunVerdict(text: string): { ok: true; verdict: RunVerdict } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text.trim());
  } catch {
    return { ok: false, error: "the answer is not JSON" };
  }
  const parsed = RunVerdictSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `the answer does not match the verdict schema (${issue?.path.join(".") || "object"}: ${issue?.message})` };
  }
  return { ok: true, verdict: parsed.data };
}

export type Run = { miner: string; status: string; output: string | null };
export type RunRecord = { miner: string; status: string; verdict: VerdictName; confidence: number; parse_error: string | null; reasons: string[] };

export type AggregateVerdict = {
  verdict: VerdictName;
  confidence: number;
  reasons: string[];
  advice: string;
  evidence: string[];
  agreement: { runs: number; agreeing: number; required: number };
  runs?: RunRecord[];
};

const unique = (items: string[]) => [...new Set(items.map((s) => s.trim()).filter(Boolean))];

/**
 * Aggregates runs by vote. A verdict wins when more than half of the
 * requested runs give it; otherwise the answer is RETRY. A run that failed,
 * timed out or did not parse votes RETRY. Confidence is the winners' mean
 * confidence scaled by the share of runs that agreed.
 */
export function aggregateVerdicts(runs: readonly Run[], redundancy: number): AggregateVerdict {
  const records: (RunRecord & { parsed?: RunVerdict })[] = runs.map((r) => {
    if (r.output === null) return { miner: r.miner, status: r.status, verdict: "RETRY", confidence: 0, parse_error: `run ${r.status}`, reasons: [] };
    const parsed = parseRunVerdict(r.output);
    return parsed.ok
      ? {
          miner: r.miner,
          status: r.status,
          verdict: parsed.verdict.verdict,
          confidence: parsed.verdict.confidence,
          parse_error: null,
          reasons: parsed.verdict.reasons,
          parsed: parsed.verdict,
        }
      : { miner: r.miner, status: r.status, verdict: "RETRY", confidence: 0, parse_error: parsed.error, reasons: [] };
  });
  const required = Math.floor(Math.max(redundancy, runs.length) / 2) + 1;
  const tally = new Map<VerdictName, typeof records>();
  for (const r of records) tally.set(r.verdict, [...(tally.get(r.verdict) ?? []), r]);
  const [leader, voters] = [...tally.entries()].sort((a, b) => b[1].length - a[1].length)[0] ?? ["RETRY", []];
  const decided = voters.length >= required && leader !== "RETRY";
  const winners = decided ? voters : [];
  const verdict: VerdictName = decided ? leader : "RETRY";
  const confidence = decided
    ? Math.round((winners.reduce((n, r) => n + r.confidence, 0) / winners.length) * (winners.length / Math.max(redundancy, runs.length)) * 1000) / 1000
    : 0;
  const reasons = decided
    ? unique(winners.flatMap((r) => r.reasons))
    : unique([
        `no verdict was given by more than half of the ${Math.max(redundancy, runs.length)} runs`,
        ...records.filter((r) => r.parse_error).map((r) => `${r.miner}: ${r.parse_error}`),
      ]);
  const result: AggregateVerdict = {
    verdict,
    confidence,
    reasons,
    advice: decided ? unique(winners.map((r) => r.parsed?.advice ?? "")).join(" ") : "Retry the request, or make the claim and rules more specific.",
    evidence: decided ? unique(winners.flatMap((r) => r.parsed?.evidence ?? [])) : [],
    agreement: { runs: records.length, agreeing: winners.length, required },
  };
  if (redundancy > 1) result.runs = records.map(({ parsed: _p, ...r }) => r);
  return result;
}
