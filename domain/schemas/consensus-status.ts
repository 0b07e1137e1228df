import { z } from "@hono/zod-openapi";

/**
 * How many of the miners asked for stand behind the answer, also sent as the
 * `x-consensus` header: every one of them (`unanimous`), a majority of the
 * redundancy (`majority`), fewer (`minority`), none besides the one that gave
 * it although others answered (`no_agreement`: no two answers agree, so the
 * answer is a tie-break's pick and `dissent` lists answers that were not
 * outvoted), or only one miner answered at all (`single`; always so at redundancy 1).
 */
export const ConsensusStatusSchema = z
  .enum(["unanimous", "majority", "minority", "no_agreement", "single"])
  .describe(
    "unanimous: every miner asked for gave the answer; majority: a majority of the redundancy did; minority: fewer did; no_agreement: several miners answered and no two agree (the answer is a tie-break's pick, dissent lists answers that were not outvoted); single: only one miner answered",
  );
export type ConsensusStatus = z.infer<typeof ConsensusStatusSchema>;
