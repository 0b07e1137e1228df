import type { CompletionRequest, MinerRequest } from "../../domain/schemas/completion";
import type { TaskOverrides } from "../../domain/sessions/types";

/** What every miner of the task is sent: the client's prompt and sampling, on the session's model. */
export function minerRequestFor(req: CompletionRequest, model: string, policy: TaskOverrides | undefined): MinerRequest {
  return {
    kind: req.messages ? "chat" : "completion",
    model,
    ...(req.prompt !== undefined ? { prompt: req.prompt } : {}),
    ...(req.messages !== undefined ? { messages: req.messages } : {}),
    ...(req.max_tokens !== undefined ? { max_tokens: req.max_tokens } : {}),
    ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
    ...(req.top_p !== undefined ? { top_p: req.top_p } : {}),
    ...(req.top_k !== undefined ? { top_k: req.top_k } : {}),
    ...(req.stop !== undefined ? { stop: req.stop } : {}),
    ...(policy?.json ? { response_format: { type: "json_object" as const } } : {}),
  };
}
