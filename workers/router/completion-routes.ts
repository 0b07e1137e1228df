import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { requireRouterKey } from "../auth/bearer";
import { loadConfig } from "../config/config";
import { sha256Hex } from "../crypto/sha256";
import type { AppEnv } from "../http/app-env";
import { ApiError, ErrorBodySchema } from "../http/errors";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses } from "../http/responses";
import { completionEvents, SSE_HEADERS, sseResponse } from "../http/sse";
import { SessionIdParamSchema } from "../schemas/common";
import { CompletionRequestSchema, CompletionResponseSchema, type CompletionRequest } from "../schemas/completion";
import { sessionStub } from "./stubs";
import type { StreamResult } from "../../durable-objects/session";

/** URL first, then body, then the configured default; otherwise the "missing session" error. */
export function resolveSessionId(fromUrl: number | undefined, fromBody: number | undefined, fallback: number | undefined): number {
  const id = fromUrl ?? fromBody ?? fallback;
  if (id === undefined) {
    throw new ApiError(400, "missing_session", "no session id in the URL or the body, and no default session is configured", {
      issues: [{ field: "session_id", message: "required" }],
    });
  }
  return id;
}

/** Identity of a request for idempotency: everything that changes the work, not how it is delivered. */
export async function requestFingerprint(sessionId: number, request: CompletionRequest, flow = "v1"): Promise<string> {
  const { stream: _stream, session_id: _session, request_id: _id, ...work } = request;
  const ordered = Object.fromEntries(Object.entries(work).sort(([a], [b]) => a.localeCompare(b)));
  return sha256Hex(JSON.stringify([sessionId, flow, ordered]));
}

export async function complete(
  c: Context<AppEnv>,
  sessionIdFromUrl: number | undefined,
  request: CompletionRequest,
  payloadVersion?: "v2" | "v3",
) {
  const sessionId = resolveSessionId(sessionIdFromUrl, request.session_id, loadConfig(c.env).defaultSessionId);
  const input = {
    sessionId,
    request,
    requestHash: await requestFingerprint(sessionId, request, payloadVersion),
    ...(payloadVersion ? { payload: { version: payloadVersion, origin: new URL(c.req.url).origin } } : {}),
  };
  const stub = sessionStub(c.env, sessionId);
  // Typed by hand: RPC's serialisable-type mapping loses the unions' discriminants.
  const result = (request.stream ? await stub.submitStream(input) : await stub.submit(input)) as StreamResult;
  if (!result.ok) return c.json(result.body, result.status);
  if ("stream" in result) return new Response(result.stream, { headers: { ...SSE_HEADERS, "x-task-id": String(result.taskId) } });
  const headers = { "x-task-id": String(result.completion.task_id), "x-idempotent-replay": String(result.replayed) };
  // Encrypted payload flows force stream: false.
  if (request.stream && !result.completion.encrypted) return sseResponse(completionEvents(result.completion), headers);
  return c.json(result.completion, 200, headers);
}

const completionResponses = {
  200: {
    content: {
      "application/json": { schema: CompletionResponseSchema },
      "text/event-stream": { schema: z.string().openapi({ description: "OpenAI-style chunks, then `data: [DONE]`" }) },
    },
    description: "The agreed completion (or its stream when `stream` is true)",
  },
  400: errorResponses[400],
  401: errorResponses[401],
  404: errorResponses[404],
  409: { content: { "application/json": { schema: ErrorBodySchema } }, description: "request_id reused for different work, or session inactive" },
  413: errorResponses[413],
  502: { content: { "application/json": { schema: ErrorBodySchema } }, description: "Every assigned miner failed" },
  503: { content: { "application/json": { schema: ErrorBodySchema } }, description: "No miner available for the session's model" },
  504: { content: { "application/json": { schema: ErrorBodySchema } }, description: "No result before the timeout" },
} as const;

const body = { content: { "application/json": { schema: CompletionRequestSchema } }, required: true };
const authed = { security: bearerSecurity, middleware: [requireRouterKey()] };

const VERSIONS = ["v1", "v2", "v3"] as const;
const SUMMARY = {
  v1: "the prompt travels to the miners directly",
  v2: "the prompt is stored off-chain (R2) and miners get its URN",
  v3: "the prompt is stored in the v3 off-chain format; encrypted sessions force stream: false",
} as const;

function completionRoutesFor(version: (typeof VERSIONS)[number]) {
  const payload = version === "v1" ? undefined : version;
  return openApiApp()
    .openapi(
      createRoute({
        method: "post",
        path: `/api/${version}/completions`,
        tags: ["completions"],
        summary: `Submits a prompt (${SUMMARY[version]}); the session comes from the body or the configured default`,
        ...authed,
        request: { body },
        responses: completionResponses,
      }),
      (c) => complete(c, undefined, c.req.valid("json"), payload) as never,
    )
    .openapi(
      createRoute({
        method: "post",
        path: `/api/${version}/completions/{sessionId}`,
        tags: ["completions"],
        summary: `Submits a prompt to the session named in the URL (${SUMMARY[version]})`,
        ...authed,
        request: { params: SessionIdParamSchema, body },
        responses: completionResponses,
      }),
      (c) => complete(c, c.req.valid("param").sessionId, c.req.valid("json"), payload) as never,
    );
}

export const completionRoutes = openApiApp()
  .route("/", completionRoutesFor("v1"))
  .route("/", completionRoutesFor("v2"))
  .route("/", completionRoutesFor("v3"));

