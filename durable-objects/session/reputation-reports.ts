import type { Slot } from "../../domain/protocol/run-task";
import type { MinerOutcomeReport } from "../miner-registry";

/** A slot's report: what the registry hears of its miner's part in a task. */
export type SlotOutcomeReport = MinerOutcomeReport & { slot: number };

/**
 * Reports each miner's part in a task once, when its slot has ended (decided
 * results first, late ones when they arrive), and frees its place in the
 * session's load count. The caller writes the reports (the slots'
 * assignments carry them, `PendingReports`) in the write that records the
 * outcome they report, synchronously after taking them.
 */
export class ReputationReports {
  private readonly reported = new Map<number, Set<number>>();

  constructor(private readonly release: (minerId: string) => void) {}

  /** The reports of the task's slots that ended and were not reported yet, now counted as reported. */
  report(taskId: number, slots: readonly Slot[]): SlotOutcomeReport[] {
    const seen = this.reported.get(taskId) ?? new Set<number>();
    this.reported.set(taskId, seen);
    const reports: SlotOutcomeReport[] = [];
    for (const s of slots) {
      if (seen.has(s.slot) || s.state === "assigned" || s.state === "acked") continue;
      seen.add(s.slot);
      reports.push({ slot: s.slot, minerId: s.miner.id, outcome: outcomeOf(s), latencyMs: s.output?.latencyMs ?? null });
      this.release(s.miner.id);
    }
    return reports;
  }

  /** Once every call of the task has ended: the late results; the task is then forgotten. */
  reportSettled(taskId: number, slots: readonly Slot[]): SlotOutcomeReport[] {
    try {
      return this.report(taskId, slots);
    } finally {
      this.reported.delete(taskId);
    }
  }
}

/**
 * What a slot says about its miner. A failure the request caused (a 4xx for
 * this prompt, a deadline too short for the miner) is reported as such and
 * never counts against it; a result whose reported usage the router could
 * prove false (`metering/usage-audit.ts`) counts as a failure; a call cancelled because the task was decided or
 * ended says nothing at all.
 */
function outcomeOf(s: Slot): MinerOutcomeReport["outcome"] {
  // A misreported usage is the miner's fault whatever its answer (which stands as judged).
  if (s.state === "precommitted") {
    if (s.usageMisreport) return "usage_misreported";
    // Never judged: a probationary answer in a task no established miner answered (nothing to compare it with).
    if (s.agreed === undefined) return "cancelled";
    return s.agreed ? "agreed" : "disagreed";
  }
  if (s.state === "failed" || s.state === "timed_out") return s.fault === "request" ? "request_failed" : s.state;
  return "cancelled";
}
