import type { StreamResult, SubmitResult } from "../../durable-objects/session";
import { completionEvents, sseResponse } from "../http/sse";
import type { Env } from "../env";
import { ApiError } from "../http/errors";
import { requestFingerprint } from "../router/completion-routes";
import { sessionStub } from "../router/stubs";
import type { CompletionRequest, CompletionResponse } from "../schemas/completion";
import { fromFailure } from "../tasks/submit-work";
import type { Pool } from "./gateway-config";
import { orderRouters, recordFailure, recordSuccess } from "./router-health";

export type Dispatched = { completion: CompletionResponse; router: string };

/**
 * Runs a completion on a router pool. The local pool is this deployment:
 * the Session object is called in-process, as /api/v3/completions would.
 * A remote pool is a list of routers speaking the v3 API, tried healthy and
 * fast first; a router that cannot be reached or answers 5xx (504 included)
 * hands over to the next, while a 4xx is the answer (the request itself is
 * at fault, another router would say the same).
 */
export async function dispatch(env: Env, pool: Pool, sessionId: number, request: CompletionRequest, origin: string): Promise<Dispatched> {
  if (pool.type === "local") {
    const result = (await sessionStub(env, sessionId).submit({
      sessionId,
      request,
      requestHash: await requestFingerprint(sessionId, request, "v3"),
      payload: { version: "v3", origin },
    })) as SubmitResult;
    if (!result.ok) throw fromFailure(result);
    return { completion: result.completion, router: "local" };
  }

  const { response, router, started } = await firstAccepting(pool, sessionId, { ...request, stream: false });
  const body = (await response.json().catch(() => null)) as CompletionResponse | null;
  if (!body?.choices) throw new ApiError(502, "router_error", `router ${router} sent no completion`);
  recordSuccess(router, Date.now() - started);
  return { completion: body, router };
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
      const error = ((await response.json().catch(() => null)) as { error?: { code: string; message: string; details?: unknown } } | null)?.error;
      throw new ApiError(response.status as 400, error?.code ?? "router_error", error?.message ?? `router answered ${response.status}`, error?.details);
    }
    return { response, router: router.url, started };
  }
  throw new ApiError(502, "router_pool_unavailable", `no router of pool ${pool.name} completed the request`, { attempts });
}

const sseOf = (completion: CompletionResponse) => sseResponse(completionEvents(completion)).body!;

/**
 * The same, answered as server-sent events: the local Session object's
 * stream (live where the session streams live), or a remote router's
 * stream passed through.
 */
export async function dispatchStream(env: Env, pool: Pool, sessionId: number, request: CompletionRequest, origin: string): Promise<ReadableStream<Uint8Array>> {
  if (pool.type === "local") {
    const result = (await sessionStub(env, sessionId).submitStream({
      sessionId,
      request: { ...request, stream: true },
      requestHash: await requestFingerprint(sessionId, request, "v3"),
      payload: { version: "v3", origin },
    })) as StreamResult;
    if (!result.ok) throw fromFailure(result);
    return "stream" in result ? result.stream : sseOf(result.completion);
  }
  const { response, router, started } = await firstAccepting(pool, sessionId, { ...request, stream: true });
  recordSuccess(router, Date.now() - started);
  if ((response.headers.get("content-type") ?? "").includes("text/event-stream")) return response.body!;
  const body = (await response.json().catch(() => null)) as CompletionResponse | null;
  if (!body?.choices) throw new ApiError(502, "router_error", `router ${router} sent no completion`);
  return sseOf(body);
}
