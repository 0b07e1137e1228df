import type { Context } from "hono";
import { loadConfig } from "../../domain/config/config";
import type { AppEnv } from "../http/app-env";
import { completionEvents, SSE_HEADERS, sseResponse } from "../../domain/sse";
import type { CompletionRequest } from "../../domain/schemas/completion";
import type { TaskBilling } from "../../domain/rewards/task-billing";
import { recordActivity } from "../activity/record-activity";
import type { Caller } from "../../domain/sessions/caller";
import { streamCompletion, submitCompletion } from "../../durable-objects/session/session-client";
import { resolveSessionId } from "./session-id";

/**
 * A completion route's answer: the session from the URL, the body or the
 * default; the agreed completion as JSON, or as server-sent events for
 * `stream: true` (live from the first miner where the session streams live).
 * `payloadVersion` stores the prompt off-chain (v2/v3 routes); `billing`
 * is what the caller pays for it (x402), shared in part by its miners;
 * `caller` is the namespace of the request's `request_id`.
 */
export async function answerCompletion(
  c: Context<AppEnv>,
  caller: Caller,
  sessionIdFromUrl: number | undefined,
  request: CompletionRequest,
  options: { payloadVersion?: "v2" | "v3" | undefined; billing?: TaskBilling } = {},
): Promise<Response> {
  const { payloadVersion, billing } = options;
  const config = loadConfig(c.env);
  const job = {
    billing,
    sessionId: resolveSessionId(sessionIdFromUrl, request.session_id, config.defaultSessionId),
    caller,
    request,
    flow: payloadVersion ?? "v1",
    ...(payloadVersion ? { payload: { version: payloadVersion, origin: new URL(c.req.url).origin } } : {}),
  };
  const result = request.stream ? await streamCompletion(c.env, config, job) : await submitCompletion(c.env, config, job);
  // Trial and x402 completions' tokens count in the day's activity; a live stream's are not known here.
  if (!("stream" in result) && !result.replayed && (caller.kind === "trial" || caller.kind === "x402")) {
    recordActivity(c, { channel: caller.kind, tokens: result.completion.usage.total_tokens });
  }
  // A stream's chunks carry no request_id: the header names it (x402 marks the request paid by it).
  const requestIdHeader: Record<string, string> = request.request_id === undefined ? {} : { "x-request-id": request.request_id };
  if ("stream" in result) return new Response(result.stream, { headers: { ...SSE_HEADERS, "x-task-id": String(result.taskId), ...requestIdHeader } });
  // How many miners stand behind the answer, where no client can miss it (a live stream's closing chunk says it instead).
  const headers = { "x-task-id": String(result.completion.task_id), ...replayHeaders(result.replayed), "x-consensus": result.completion.consensus.status };
  // Encrypted payload flows answer JSON even for stream: true.
  if (request.stream && !result.completion.encrypted) return sseResponse(completionEvents(result.completion), { ...headers, ...requestIdHeader });
  return c.json(result.completion, 200, headers);
}

/** Tells a client whether it got a stored answer again (a replayed request_id) or fresh work. */
export const replayHeaders = (replayed: boolean) => ({ "x-idempotent-replay": String(replayed) });
