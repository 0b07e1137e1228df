import { type OperatorFields, operatorMarks } from "./operator-marks.ts";
import { NO_PROBATION_LIMIT, type ProbationRoom } from "./probation.ts";

export type SelectionCandidate = OperatorFields & {
  id: string;
  reputation: number;
  inFlight: number;
  maxConcurrency: number;
  latencyMs?: number | null;
  /** The multiplier of the miner's payout account's stake (1 without stake), as the registry last read it. */
  stakeMultiplier?: number;
  /** On probation (`probation.ts`): picked only within the task's `ProbationRoom`. */
  probation?: boolean;
};

/** What selection favours besides spare capacity (the request's tier decides). */
export type Preference = "reputation" | "latency";

/**
 * How much a miner should be preferred: reputation, discounted by how busy
 * it is; with the latency preference, also by its average latency (a miner
 * with no history counts as average); multiplied by its payout account's
 * stake multiplier, so stake raises a miner's odds without ever making its
 * pick certain.
 */
export function selectionWeight(c: SelectionCandidate, preference: Preference = "reputation"): number {
  const spare = Math.max(0, 1 - c.inFlight / c.maxConcurrency);
  const quality = Math.max(0.01, c.reputation);
  const speed = preference === "latency" ? 1 / (1 + (c.latencyMs ?? 250) / 250) : 1;
  return quality * speed * spare * (c.stakeMultiplier ?? 1);
}

/**
 * Picks up to `count` distinct miners at random, each with probability
 * proportional to its weight (Efraimidis–Spirakis weighted sampling without
 * replacement). Miners with no spare capacity are never picked, nor two
 * that share an operator mark (address, payout account, endpoint:
 * `operatorMarks`) with each other or with a miner `alongside` (the task's
 * miners already tried): one operator, one slot of a task. Miners on
 * probation take at most `room.seats` places, and only beside established
 * ones (`room.spareEstablished` plus those picked here): a probationary
 * miner that would stand alone is dropped and its place offered to the
 * established miners left.
 */
export function selectMiners<T extends SelectionCandidate>(
  candidates: readonly T[],
  count: number,
  random: () => number = Math.random,
  preference: Preference = "reputation",
  alongside: readonly OperatorFields[] = [],
  room: ProbationRoom = NO_PROBATION_LIMIT,
): T[] {
  const ranked = candidates
    .map((c) => ({ c, w: selectionWeight(c, preference) }))
    .filter(({ w }) => w > 0)
    .map(({ c, w }) => ({ c, key: (random() || Number.MIN_VALUE) ** (1 / w) }))
    .sort((a, b) => b.key - a.key)
    .map(({ c }) => c);
  let picked = pickInOrder(ranked, count, alongside, (c, chosen) => !c.probation || chosen.filter((p) => p.probation).length < room.seats);
  const probationary = picked.filter((p) => p.probation);
  const beside = room.spareEstablished + picked.length - probationary.length;
  if (probationary.length > beside) {
    // Too few established miners to stand beside them: keep the first, offer the rest's places to established miners.
    const dropped = new Set(probationary.slice(Math.max(0, beside)));
    picked = picked.filter((p) => !dropped.has(p));
    const more = pickInOrder(
      ranked.filter((c) => !c.probation && !picked.includes(c)),
      count - picked.length,
      [...alongside, ...picked],
      () => true,
    );
    picked.push(...more);
  }
  return picked;
}

/** The first `count` of `ranked` that `allowed` admits, no two (nor one and a miner `alongside`) sharing an operator mark. */
function pickInOrder<T extends SelectionCandidate>(
  ranked: readonly T[],
  count: number,
  alongside: readonly OperatorFields[],
  allowed: (c: T, chosen: readonly T[]) => boolean,
): T[] {
  const taken = new Set(alongside.flatMap(operatorMarks));
  const picked: T[] = [];
  for (const c of ranked) {
    if (picked.length >= count) break;
    if (!allowed(c, picked)) continue;
    const marks = operatorMarks(c);
    if (marks.some((m) => taken.has(m))) continue;
    for (const m of marks) taken.add(m);
    picked.push(c);
  }
  return picked;
}

/** Exponential moving average of agreement: 1 for agreeing, 0 for disagreeing, failing or timing out. */
export function nextReputation(current: number, outcome: "agreed" | "disagreed" | "failed" | "timed_out"): number {
  const alpha = 0.2;
  const score = outcome === "agreed" ? 1 : 0;
  return Math.round((current * (1 - alpha) + score * alpha) * 1e4) / 1e4;
}
