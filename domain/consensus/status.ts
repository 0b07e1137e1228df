import type { ConsensusStatus } from "../schemas/consensus-status.ts";
import type { SessionConfig } from "../schemas/session.ts";
import { majority } from "./agreement.ts";

export type ConsensusPolicy = SessionConfig["consensus_policy"];

/**
 * How many of the `redundancy` miners asked for stand behind an answer that
 * `agreed` of the `answered` results agree on. A redundancy-3 answer that
 * only one miner gave (the others failed, or there was no capacity) is
 * `single`, never a plain success. Several answers of which no two agree
 * (the two miners of a redundancy-2 task that differ) are `no_agreement`:
 * the answer is only the tie-break's pick, and the others are not outvoted.
 */
export function consensusStatus(agreed: number, answered: number, redundancy: number): ConsensusStatus {
  if (answered <= 1 || redundancy <= 1) return "single";
  if (agreed <= 1) return "no_agreement";
  if (agreed >= redundancy) return "unanimous";
  if (agreed >= majority(redundancy)) return "majority";
  return "minority";
}

/** Agreeing results a session's policy needs before it answers. */
export function requiredAgreement(policy: ConsensusPolicy, redundancy: number): number {
  if (policy === "unanimous") return redundancy;
  if (policy === "majority") return majority(redundancy);
  return 1;
}
