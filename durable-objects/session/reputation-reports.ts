import type { Slot } from "../../domain/protocol/run-task";
import type { MinerOutcomeReport } from "../miner-registry";

/**
 * Reports each miner's part in a task once, when its slot has ended (decided
 * results first, late ones when they arrive), and frees its place in the
 * session's load count. `record` queues the reports for the registry
 * (PendingReports): it writes, synchronously, in the caller's storage turn.
 */
export class ReputationReports {
  private readonly reported = new Map<number, Set<number>>();

  constructor(
    private readonly record: (reports: MinerOutcomeReport[]) => void,
    private readonly release: (minerId: string) => void,
  ) {}

  report(taskId: number, slots: readonly Slot[]): void {
    const seen = this.reported.get(taskId) ?? new Set<number>();
    this.reported.set(taskId, seen);
    const reports: MinerOutcomeReport[] = [];
    for (const s of slots) {
      if (seen.has(s.slot) || s.state === "assigned" || s.state === "acked") continue;
      seen.add(s.slot);
      reports.push({ minerId: s.miner.id, outcome: outcomeOf(s), latencyMs: s.output?.latencyMs ?? null });
      this.release(s.miner.id);
    }
    if (reports.length > 0) this.record(reports);
  }

  /** Once every call of the task has ended: the late results, then the task is forgotten. */
  reportSettled(taskId: number, slots: readonly Slot[]): void {
    try {
      this.report(taskId, slots);
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
