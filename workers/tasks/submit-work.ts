import type { Failure, SubmitResult, TaskOverrides } from "../../durable-objects/session";
import type { Env } from "../env";
import { ApiError } from "../http/errors";
import { requestFingerprint } from "../router/completion-routes";
import { sessionStub } from "../router/stubs";
import type { CompletionRequest, CompletionResponse } from "../schemas/completion";

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
  const flow = `${task.flow}:${JSON.stringify(task.policy)}`;
  // Typed by hand: RPC's serialisable-type mapping loses the union's discriminant.
  const result = (await sessionStub(env, task.sessionId).submit({
    sessionId: task.sessionId,
    request,
    requestHash: await requestFingerprint(task.sessionId, request, flow),
    policy: task.policy,
  })) as SubmitResult;
  if (!result.ok) throw fromFailure(result);
  return result.completion;
}

export function fromFailure(f: Failure): ApiError {
  return new ApiError(f.status, f.body.error.code, f.body.error.message, f.body.error.details);
}
