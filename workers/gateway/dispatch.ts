import { loadConfig } from "../../domain/config/config";
import type { Env } from "../env";
import type { ClientErrorStatusCode } from "hono/utils/http-status";
import { ApiError, ErrorBodySchema } from "../../domain/errors";
import { completionEvents, sseResponse } from "../../domain/sse";
import { type CompletionRequest, type CompletionResponse, CompletionResponseSchema } from "../../domain/schemas/completion";
import { type Caller, opaqueRequestId } from "../../domain/sessions/caller";
import { streamCompletion, submitCompletion } from "../../durable-objects/session/session-client";
import type { TaskBilling } from "../../domain/rewards/task-billing";
import type { Pool } from "../../domain/gateway/gateway-config";
import { orderRouters, recordFailure, recordSuccess } from "./router-health";

export type Dispatched = { completion: CompletionResponse; router: string };

/**
 * Runs a completion on a router pool. The local pool is this deployment:
 * the Session object is called in-process, as /api/v3/completions would.
 * A remote pool is a list of routers speaking the v3 API, tried healthy and
 * fast first; a router that cannot be reached or answers 5xx (504 included)
 * hands over to the next, while a 4xx is the answer (the request itself is
 * at fault, another router would say the same). `caller` (the customer) is
 * the namespace of the request id, locally and on remote routers alike.
 * `billing` (the key's price) goes with a local task, whose miners share a
 * part of what it is billed; a remote router rewards its own miners.
 */
export async function dispatch(env: Env, pool: Pool, sessionId: number, request: CompletionRequest, origin: string, caller: Caller, billing?: TaskBilling): Promise<Dispatched> {
  if (pool.type === "local") {
    const { completion } = await submitCompletion(env, loadConfig(env), { sessionId, caller, request, flow: "v3", payload: { version: "v3", origin }, billing });
    return { completion, router: "local" };
  }

  const { response, router, started } = await firstAccepting(pool, sessionId, await forRemote({ ...request, stream: false }, caller));
  const completion = await completionFrom(response, router);
  recordSuccess(router, Date.now() - started);
  return { completion: { ...completion, request_id: request.request_id ?? null }, router };
}

/**
 * A request as a remote router receives it: every customer reaches it under
 * this gateway's one key, so the request id is made the customer's own
 * (a fixed-length hash of customer and id) before it leaves.
 */
async function forRemote(request: CompletionRequest, caller: Caller): Promise<CompletionRequest> {
  return request.request_id === undefined ? request : { ...request, request_id: await opaqueRequestId(caller, request.request_id) };
}

/**
 * The first router of a remote pool that takes the request: unreachable
 * routers and 5xx answers hand over to the next; a 4xx is thrown as the
 * answer; a router that accepted is never followed by a second submission.
 */
async function firstAccepting(pool: Extract<Pool, { type: "remote" }>, sessionId: number, body: CompletionRequest) {
  const attempts: { router: string; error: string }[] = [];
  for (const router of orderRouters(pool.routers)) {
    const started = Date.now();
    let response: Response;
    try {
      response = await fetch(`${router.url}/api/v3/completions/${sessionId}`, {
        method: "POST",
        headers: { authorization: `Bearer ${router.key}`, "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(pool.timeoutS * 1000),
      });
    } catch (err) {
      recordFailure(router.url);
      attempts.push({ router: router.url, error: err instanceof Error && err.name === "TimeoutError" ? "timed out" : "unreachable" });
      continue;
    }
    if (response.status >= 500) {
      recordFailure(router.url);
      attempts.push({ router: router.url, error: `answered ${response.status}` });
      await response.body?.cancel();
      continue;
    }
    if (!response.ok) {
      recordSuccess(router.url, Date.now() - started);
      const error = ErrorBodySchema.safeParse(await response.json().catch(() => null)).data?.error;
      throw new ApiError(clientErrorStatus(response.status), error?.code ?? "router_error", error?.message ?? `router answered ${response.status}`, error?.details);
    }
    return { response, router: router.url, started };
  }
  throw new ApiError(502, "router_pool_unavailable", `no router of pool ${pool.name} completed the request`, { attempts });
}

/** A remote router's completion, checked: anything else is that router's fault. */
async function completionFrom(response: Response, router: string): Promise<CompletionResponse> {
  const parsed = CompletionResponseSchema.passthrough().safeParse(await response.json().catch(() => null));
  if (!parsed.success) throw new ApiError(502, "router_error", `router ${router} sent no completion`, undefined, undefined, { cause: parsed.error });
  return parsed.data;
}

/** Whether a remote router's status is a 4xx, which is passed on unchanged (the request was at fault). */
const isClientError = (status: number): status is ClientErrorStatusCode => status >= 400 && status < 500;
const clientErrorStatus = (status: number): ClientErrorStatusCode => (isClientError(status) ? status : 400);

const sseOf = (completion: CompletionResponse): ReadableStream<Uint8Array> => {
  const { body } = sseResponse(completionEvents(completion));
  if (!body) throw new Error("an SSE response always has a body");
  return body;
};

/**
 * The same, answered as server-sent events: the local Session object's
 * stream (live where the session streams live), or a remote router's
 * stream passed through.
 */
export async function dispatchStream(
  env: Env,
  pool: Pool,
  sessionId: number,
  request: CompletionRequest,
  origin: string,
  caller: Caller,
  billing?: TaskBilling,
): Promise<ReadableStream<Uint8Array>> {
  if (pool.type === "local") {
    const result = await streamCompletion(env, loadConfig(env), {
      sessionId,
      caller,
      request: { ...request, stream: true },
      flow: "v3",
      payload: { version: "v3", origin },
      billing,
    });
    return "stream" in result ? result.stream : sseOf(result.completion);
  }
  const { response, router, started } = await firstAccepting(pool, sessionId, await forRemote({ ...request, stream: true }, caller));
  recordSuccess(router, Date.now() - started);
  if ((response.headers.get("content-type") ?? "").includes("text/event-stream") && response.body) return response.body;
  return sseOf(await completionFrom(response, router));
}
