import type { RouterConfig } from "../../domain/config/config";
import type { Env } from "../env";
import { ApiError } from "../../domain/errors";
import type { FactcheckRequest } from "../../domain/schemas/work";
import { searchEvidence } from "../web/search";
import { splitBilling, type TaskBilling } from "../../domain/rewards/task-billing";
import type { Caller } from "../../domain/sessions/caller";
import { submitWork } from "./submit-work";
import { resolvePolicy } from "../../domain/work/tiers";
import { aggregateVerdicts } from "./verdict";
import { factcheckPrompt } from "./work-prompts";
import { verdictTask } from "./validate";

/** The body's session, else FACTCHECK_<MODE>_SESSION_ID, else FACTCHECK_SESSION_ID. */
export function factcheckSession(body: Pick<FactcheckRequest, "session_id" | "mode">, config: RouterConfig): number {
  const id = body.session_id ?? config.factcheckSessions[body.mode] ?? config.factcheckSessions.any;
  if (id === undefined) {
    throw new ApiError(400, "missing_session", `no session_id in the body and neither FACTCHECK_${body.mode.toUpperCase()}_SESSION_ID nor FACTCHECK_SESSION_ID is configured`, {
      issues: [{ field: "session_id", message: "required" }],
    });
  }
  return id;
}

/**
 * Fact-checks a statement: in realtime mode with evidence from the search
 * provider first; `task_redundancy` independent tasks of `redundancy` runs
 * each, every run voting on the verdict.
 */
export async function runFactcheck(env: Env, config: RouterConfig, body: FactcheckRequest, flow: string, caller: Caller, billing?: TaskBilling) {
  const realtime = body.mode === "realtime";
  if (realtime && !config.search) {
    throw new ApiError(501, "realtime_not_configured", "realtime factcheck needs a search provider (SEARCH_PROVIDER_URL), and this router has none");
  }
  const sessionId = factcheckSession(body, config);
  const evidence = realtime && config.search ? await searchEvidence(config.search, body.claim.statement) : [];
  const precommitMs = body.policy.precommit_timeout_ms ?? (body.policy.precommit_timeout === undefined ? undefined : body.policy.precommit_timeout * 1000);
  const policy = resolvePolicy({
    tier: body.policy.tier,
    redundancy: body.policy.redundancy,
    timeoutS: body.policy.timeout_ms === undefined ? undefined : body.policy.timeout_ms / 1000,
    precommitS: precommitMs === undefined ? undefined : precommitMs / 1000,
  });
  const prompt = factcheckPrompt(body.claim, evidence);
  const submitted = await Promise.all(
    Array.from({ length: body.policy.task_redundancy }, (_, k) =>
      submitWork(env, {
        sessionId,
        caller,
        flow: `${flow}:${k}`,
        // Each independent task gets its own variant of the request id, so a retry replays all of them.
        prompt: body.policy.task_redundancy > 1 ? `${prompt}\n\n(independent check ${k + 1} of ${body.policy.task_redundancy})` : prompt,
        requestId: body.request_id === undefined ? undefined : body.policy.task_redundancy > 1 ? `${body.request_id}:${k}` : body.request_id,
        // One payment for all the independent tasks: each is billed its part.
        billing: billing && splitBilling(billing, body.policy.task_redundancy, k),
        ...verdictTask(policy, body.model_policy),
      }),
    ),
  );
  const tasks = submitted.map((s) => s.completion);
  const runs = tasks.flatMap((t) => t.runs ?? []);
  const redundancy = tasks.reduce((n, t) => n + t.consensus.redundancy, 0);
  const result = {
    request_id: body.request_id ?? null,
    session_id: sessionId,
    task_ids: tasks.map((t) => t.task_id),
    mode: body.mode,
    claim: body.claim,
    ...aggregateVerdicts(runs, redundancy),
    sources: evidence,
    policy: { tier: body.policy.tier ?? null, redundancy: tasks[0]?.consensus.redundancy ?? null, task_redundancy: body.policy.task_redundancy },
  };
  // A replay only if every independent task was answered from before.
  return { result, replayed: submitted.every((s) => s.replayed) };
}
