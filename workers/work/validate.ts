import type { Env } from "../env";
import type { ValidateRequest } from "../../domain/schemas/work";
import type { TaskBilling } from "../../domain/rewards/task-billing";
import type { Caller } from "../../domain/sessions/caller";
import { submitWork } from "./submit-work";
import { resolvePolicy, type TaskPolicy } from "../../domain/work/tiers";
import type { WorkTask } from "./submit-work";
import { aggregateVerdicts } from "./verdict";
import { validatePrompt } from "./work-prompts";

/**
 * Asks every miner run of a task for a structured verdict on the claim and
 * aggregates the runs by vote (see `aggregateVerdicts`).
 */
export async function runValidate(env: Env, sessionId: number, body: Omit<ValidateRequest, "session_id">, flow: string, caller: Caller, billing?: TaskBilling) {
  const policy = resolvePolicy({
    tier: body.policy.tier,
    redundancy: body.policy.redundancy,
    timeoutS: body.policy.timeout_ms === undefined ? undefined : body.policy.timeout_ms / 1000,
    precommitS: body.policy.precommit_timeout_ms === undefined ? undefined : body.policy.precommit_timeout_ms / 1000,
  });
  const { completion, replayed } = await submitWork(env, {
    sessionId,
    caller,
    flow,
    prompt: validatePrompt(body.claim, body.policy.rules),
    requestId: body.request_id,
    billing,
    ...verdictTask(policy, body.model_policy),
  });
  const redundancy = completion.consensus.redundancy;
  const result = {
    request_id: body.request_id ?? null,
    session_id: completion.session_id,
    task_ids: [completion.task_id],
    ...aggregateVerdicts(completion.runs ?? [], redundancy),
    policy: { tier: body.policy.tier ?? null, redundancy, rules: body.policy.rules },
  };
  return { result, replayed };
}

/**
 * How a task whose runs each vote on a verdict is run: JSON answers, every
 * run's output returned, and the commit phase waiting for all runs (or the
 * precommit deadline), since each one votes.
 */
export function verdictTask(
  policy: TaskPolicy,
  model: { max_tokens?: number | undefined; temperature?: number | undefined },
): Pick<WorkTask, "maxTokens" | "temperature" | "timeoutS" | "precommitS" | "policy"> {
  return {
    maxTokens: model.max_tokens ?? 512,
    temperature: model.temperature ?? 0,
    timeoutS: policy.timeoutS,
    precommitS: policy.precommitS,
    policy: {
      ...(policy.redundancy !== undefined ? { redundancy: policy.redundancy } : {}),
      commitPolicy: "all",
      ...(policy.selection ? { selection: policy.selection } : {}),
      json: true,
      collect: true,
    },
  };
}
