import type { Env } from "../env";
import { loadConfig } from "../config/config";
import type { CompletionRequest, CompletionResponse } from "../schemas/completion";
import { submitCompletion } from "../sessions/session-client";
import type { TaskOverrides } from "../sessions/types";

export type WorkTask = {
  sessionId: number;
  /** Names the route family in the idempotency fingerprint (delegate, validate, …). */
  flow: string;
  prompt: string;
  requestId?: string | undefined;
  maxTokens?: number | undefined;
  temperature?: number | undefined;
  timeoutS?: number | undefined;
  precommitS?: number | undefined;
  policy: TaskOverrides;
};

/** Runs one task on a session the way a completion does, and returns its completion or throws its error. */
export async function submitWork(env: Env, task: WorkTask): Promise<CompletionResponse> {
  const request: CompletionRequest = {
    prompt: task.prompt,
    stream: false,
    ...(task.requestId ? { request_id: task.requestId } : {}),
    ...(task.maxTokens !== undefined ? { max_tokens: task.maxTokens } : {}),
    ...(task.temperature !== undefined ? { temperature: task.temperature } : {}),
    ...(task.timeoutS !== undefined ? { timeout: task.timeoutS } : {}),
    ...(task.precommitS !== undefined ? { precommit_timeout: task.precommitS } : {}),
  };
  const submitted = await submitCompletion(env, loadConfig(env), { sessionId: task.sessionId, request, flow: task.flow, policy: task.policy });
  return submitted.completion;
}
