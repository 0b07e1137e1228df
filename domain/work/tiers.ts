import { z } from "@hono/zod-openapi";

export const TierSchema = z.enum(["fast", "balanced", "safe"]);
export type Tier = z.infer<typeof TierSchema>;

export type TierDefaults = {
  redundancy: number;
  timeoutS: number;
  precommitS: number;
  commitPolicy: "quorum" | "all";
  /** What miner selection favours besides spare capacity. */
  selection: "latency" | "reputation";
};

/**
 * What a `tier` means when a request does not say otherwise (see README,
 * "Tiers"): fast answers from one quick miner; balanced asks three and takes
 * the majority; safe asks three, waits for all of them, and prefers miners
 * with the best agreement record.
 */
export const TIERS: Record<Tier, TierDefaults> = {
  fast: { redundancy: 1, timeoutS: 60, precommitS: 45, commitPolicy: "quorum", selection: "latency" },
  balanced: { redundancy: 3, timeoutS: 180, precommitS: 120, commitPolicy: "quorum", selection: "reputation" },
  safe: { redundancy: 3, timeoutS: 300, precommitS: 240, commitPolicy: "all", selection: "reputation" },
};

export type TaskPolicy = Partial<Omit<TierDefaults, "redundancy">> & { redundancy?: number };

/** Explicit values win; then the tier's defaults; what is left falls to the session. */
export function resolvePolicy(input: { tier?: Tier | undefined; redundancy?: number | undefined; timeoutS?: number | undefined; precommitS?: number | undefined }): TaskPolicy {
  const tier = input.tier ? TIERS[input.tier] : undefined;
  const policy: TaskPolicy = {};
  const redundancy = input.redundancy ?? tier?.redundancy;
  if (redundancy !== undefined) policy.redundancy = redundancy;
  const timeoutS = input.timeoutS ?? tier?.timeoutS;
  if (timeoutS !== undefined) policy.timeoutS = timeoutS;
  const precommitS = input.precommitS ?? (input.timeoutS === undefined ? tier?.precommitS : undefined);
  if (precommitS !== undefined) policy.precommitS = precommitS;
  if (tier) {
    policy.commitPolicy = tier.commitPolicy;
    policy.selection = tier.selection;
  }
  return policy;
}
