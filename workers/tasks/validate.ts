import type { Env } from "../env";
import type { ValidateRequest } from "../schemas/work";
import { submitWork } from "./submit-work";
import { resolvePolicy } from "./tiers";
import { aggregateVerdicts } from "./verdict";
import { validatePrompt } from "./work-prompts";

/**
 * Asks every miner run of a task for a structured verdict on the claim and
 * aggregates the runs by vote (see `aggregateVerdicts`).
 */
export async function runValidate(env: Env, sessionId: number, body: Omit<ValidateRequest, "session_id">, flow: string) {
  const policy = resolvePolicy({
    tier: body.policy.tier,
    redundancy: body.policy.redundancy,
    timeoutS: body.policy.timeout_ms === undefined ? undefined : body.policy.timeout_ms / 1000,
    precommitS: body.policy.precommit_timeout_ms === undefined ? undefined : body.policy.precommit_timeout_ms / 1000,
  });
  const completion = await submitWork(env, {
    sessionId,
    flow,
    prompt: validatePrompt(body.claim, body.policy.rules),
    requestId: body.request_id,
    maxTokens: body.model_policy.max_tokens ?? 512,
    temperature: body.model_policy.temperature ?? 0,
    timeoutS: policy.timeoutS,
    precommitS: policy.precommitS,
    policy: {
      ...(policy.redundancy !== undefined ? { redundancy: policy.redundancy } : {}),
      // Every run votes: wait for all of them (or the precommit deadline).
      commitPolicy: "all",
      ...(policy.selection ? { selection: policy.selection } : {}),
      json: true,
      collect: true,
    },
  });
  const redundancy = completion.consensus.redundancy;
  return {
    request_id: body.request_id ?? null,
    session_id: completion.session_id,
    task_ids: [completion.task_id],
    ...aggregateVerdicts(completion.runs ?? [], redundancy),
    policy: { tier: body.policy.tier ?? null, redundancy, rules: body.policy.rules },
  };
}
