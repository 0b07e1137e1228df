import { createRoute } from "@hono/zod-openapi";
import { requireRouterKey } from "../auth/bearer";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { completionResponses } from "../http/responses";
import { answerCompletion } from "../sessions/answer-completion";
import { callerOf } from "../http/caller-of";
import { SessionIdParamSchema } from "../../domain/schemas/common";
import { CompletionRequestSchema } from "../../domain/schemas/completion";

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
      (c) => answerCompletion(c, callerOf(c), undefined, c.req.valid("json"), { payloadVersion: payload }),
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
      (c) => answerCompletion(c, callerOf(c), c.req.valid("param").sessionId, c.req.valid("json"), { payloadVersion: payload }),
    );
}

export const completionRoutes = openApiApp().route("/", completionRoutesFor("v1")).route("/", completionRoutesFor("v2")).route("/", completionRoutesFor("v3"));
