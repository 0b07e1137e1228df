import type { RouterConfig } from "../../domain/config/config";
import { TIERS, type Tier } from "../../domain/work/tiers";

type Ask = { maxTokens?: number | undefined; timeoutS?: number | undefined; precommitS?: number | undefined; redundancy?: number | undefined; tier?: Tier | undefined };

/** Trial limits win over whatever the client asks. */
export function trialBounds(
  config: RouterConfig,
  ask: { maxTokens?: number | undefined; timeoutS?: number | undefined; precommitS?: number | undefined; redundancy?: number | undefined; tier?: Tier | undefined },
) {
  const t = config.trial;
  const timeoutS = Math.min(ask.timeoutS ?? t.maxTimeoutS, t.maxTimeoutS);
  return {
    maxTokens: Math.min(ask.maxTokens ?? t.maxTokens, t.maxTokens),
    timeoutS,
    precommitS: Math.min(ask.precommitS ?? timeoutS * 0.75, timeoutS * 0.75),
    redundancy: Math.min(ask.redundancy ?? (ask.tier ? TIERS[ask.tier].redundancy : 1), t.maxRedundancy),
  };
}

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

/** What a verdict request (validate, factcheck) asks for, in the units `trialBounds` reads. */
export function verdictAsk(body: {
  model_policy: { max_tokens?: number | undefined };
  policy: {
    timeout_ms?: number | undefined;
    precommit_timeout_ms?: number | undefined;
    precommit_timeout?: number | undefined;
    redundancy?: number | undefined;
    tier?: Tier | undefined;
  };
}): Ask {
  const p = body.policy;
  return {
    maxTokens: body.model_policy.max_tokens,
    timeoutS: seconds(p.timeout_ms),
    precommitS: seconds(p.precommit_timeout_ms) ?? p.precommit_timeout,
    redundancy: p.redundancy,
    tier: p.tier,
  };
}
