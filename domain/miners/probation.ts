/**
 * Probation: a miner the network has no evidence about yet (a miner that
 * joined by itself, or one an operator put there) is admitted, but its
 * answers are not trusted until enough of them agreed with established
 * miners. Plain rules, used by the registry (counting), selection (seats)
 * and the task run (consensus).
 *
 * - Seats: a task of redundancy `r` holds at most `probationSeats(r)` =
 *   floor((r-1)/2) probationary miners over all its slots (replacements
 *   included, failed ones still counted), so they are never a majority of it,
 *   and each one sits beside at least one established miner. At redundancy 1
 *   and 2 no probationary miner is ever selected; a task with no established
 *   miner to pick fails as having no miners (503), rather than be answered by
 *   probationary ones alone.
 * - Consensus: a probationary answer counts only inside a group an established
 *   miner gave too; groups are ranked by their established members first
 *   (`consensus/agreement.ts`), and a task none of whose established miners
 *   answered is not decided (`protocol/run-task.ts`).
 * - Leaving: each agreeing result takes one off the count; a disagreeing one
 *   (or a misreported usage) starts it again from the configured number, so a
 *   miner leaves probation only on a run of agreeing results; a failure or a
 *   timeout neither counts nor resets (it is health, not honesty, and costs
 *   reputation already).
 */

/** Probationary miners one task of this redundancy may hold: always fewer than half of it. */
export const probationSeats = (redundancy: number): number => Math.max(0, Math.floor((redundancy - 1) / 2));

/**
 * What selection may still add to one task: probationary seats left, and
 * `spareEstablished`, the task's live established miners not yet standing
 * beside one of its probationary miners (a pick may add probationary miners
 * up to it plus the established ones it adds itself).
 */
export type ProbationRoom = { seats: number; spareEstablished: number };

/** No limit (selection outside a task). */
export const NO_PROBATION_LIMIT: ProbationRoom = { seats: Number.POSITIVE_INFINITY, spareEstablished: Number.POSITIVE_INFINITY };

/** What a task's slots so far leave for a pick: `slots`, each its miner's probation flag and whether the slot failed or timed out. */
export function probationRoom(redundancy: number, slots: readonly { probation: boolean; ended: boolean }[]): ProbationRoom {
  const probationary = slots.filter((s) => s.probation).length;
  return {
    seats: Math.max(0, probationSeats(redundancy) - probationary),
    // Established miners that may still answer: a failed one stands beside nobody.
    spareEstablished: slots.filter((s) => !s.probation && !s.ended).length - probationary,
  };
}

/**
 * Whether a leader that already has an exact majority stands whatever the
 * `pending` calls answer. Groups rank by their established members first, so
 * with probationary answers in, the leader's established copies must be at
 * least any rival's plus every pending call (a tie goes to the leader, which
 * has the most copies in all). Without probationary answers an exact
 * majority always holds.
 */
export function leadHolds(answers: readonly { text: string; probation: boolean }[], leader: string, pending: number): boolean {
  const established = new Map<string, number>();
  for (const a of answers) if (!a.probation) established.set(a.text, (established.get(a.text) ?? 0) + 1);
  let rival = 0;
  for (const [text, n] of established) if (text !== leader && n > rival) rival = n;
  return (established.get(leader) ?? 0) >= rival + pending;
}

/** Agreeing results still needed after one more outcome, from `remaining` (0: established, and stays so). */
export function remainingAfter(remaining: number, outcome: "agreed" | "disagreed" | "usage_misreported" | "failed" | "timed_out", full: number): number {
  if (remaining <= 0) return 0;
  if (outcome === "agreed") return remaining - 1;
  if (outcome === "disagreed" || outcome === "usage_misreported") return full;
  return remaining;
}
