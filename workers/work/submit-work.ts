import type { Env } from "../env";
import { loadConfig } from "../../domain/config/config";
import type { CompletionRequest } from "../../domain/schemas/completion";
import type { TaskBilling } from "../../domain/rewards/task-billing";
import type { Caller } from "../../domain/sessions/caller";
import { submitCompletion } from "../../durable-objects/session/session-client";
import type { Submitted, TaskOverrides } from "../../domain/sessions/types";

export type WorkTask = {
  sessionId: number;
  /** Whose request this is (the namespace of `requestId`). */
  caller: Caller;
  /** Names the route family in the idempotency fingerprint (delegate, validate, …). */
  flow: string;
  prompt: string;
  requestId?: string | undefined;
  maxTokens?: number | undefined;
  temperature?: number | undefined;
  timeoutS?: number | undefined;
  precommitS?: number | undefined;
  policy: TaskOverrides;
  /** What the caller was paid for this task (x402), shared in part by its miners. */
  billing?: TaskBilling | undefined;
};

/** Runs one task on a session the way a completion does, and returns its completion (and whether it was a replay) or throws its error. */
export async function submitWork(env: Env, task: WorkTask): Promise<Submitted> {
  const request: CompletionRequest = {
    prompt: task.prompt,
    stream: false,
    ...(task.requestId ? { request_id: task.requestId } : {}),
    ...(task.maxTokens !== undefined ? { max_tokens: task.maxTokens } : {}),
    ...(task.temperature !== undefined ? { temperature: task.temperature } : {}),
    ...(task.timeoutS !== undefined ? { timeout: task.timeoutS } : {}),
    ...(task.precommitS !== undefined ? { precommit_timeout: task.precommitS } : {}),
  };
  return submitCompletion(env, loadConfig(env), { sessionId: task.sessionId, caller: task.caller, request, flow: task.flow, policy: task.policy, billing: task.billing });
}

/** A work route's answer, and whether it was replayed from an earlier task (the `x-idempotent-replay` header). */
export type Worked<T> = { result: T; replayed: boolean };
