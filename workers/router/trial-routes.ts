import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { loadConfig } from "../../domain/config/config";
import type { AppEnv } from "../http/app-env";
import { ErrorBodySchema } from "../../domain/errors";
import { openApiApp } from "../http/openapi";
import { completionOk, errorResponses, json } from "../http/responses";
import { SessionIdParamSchema } from "../../domain/schemas/common";
import { CompletionRequestSchema, type CompletionRequest } from "../../domain/schemas/completion";
import { DelegateRequestSchema, FactcheckRequestSchema, ValidateRequestSchema, VerdictResponseSchema } from "../../domain/schemas/work";
import { runDelegate } from "../work/delegate";
import { runFactcheck } from "../work/factcheck";
import { runValidate } from "../work/validate";
import { admitTrialRequest, trialSession } from "../trial/trial";
import { answerCompletion, replayHeaders } from "../sessions/answer-completion";
import { trialBounds, verdictAsk } from "../trial/trial-bounds";

const trialFailures = {
  400: errorResponses[400],
  403: { content: { "application/json": { schema: ErrorBodySchema } }, description: "Session not open to trial requests" },
  404: { content: { "application/json": { schema: ErrorBodySchema } }, description: "This trial route is not enabled" },
  429: { content: { "application/json": { schema: ErrorBodySchema } }, description: "Trial quota exceeded; `details.retry_after` seconds" },
} as const;
const jsonBody = <T>(schema: T) => ({ body: { content: { "application/json": { schema } }, required: true } });
const AnyResult = z.record(z.string(), z.unknown());

async function trialCompletion(c: Context<AppEnv>, fromUrl: number | undefined, body: CompletionRequest) {
  const config = loadConfig(c.env);
  const sessionId = trialSession(config, fromUrl ?? body.session_id);
  const caller = await admitTrialRequest(c, "completions", sessionId, body.request_id);
  const b = trialBounds(config, { maxTokens: body.max_tokens, timeoutS: body.timeout, precommitS: body.precommit_timeout });
  return answerCompletion(c, caller, sessionId, { ...body, max_tokens: b.maxTokens, timeout: b.timeoutS, precommit_timeout: b.precommitS });
}

function delegateRoute(version: "v1" | "v2") {
  return openApiApp().openapi(
    createRoute({
      method: "post",
      path: `/api/${version}/trial/delegate`,
      tags: ["trial"],
      summary: "Delegate without a key, under the trial quota and limits",
      request: jsonBody(DelegateRequestSchema),
      responses: { 200: json(AnyResult, "The result"), ...trialFailures },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const config = loadConfig(c.env);
      const sessionId = trialSession(config, body.session_id);
      const caller = await admitTrialRequest(c, "delegate", sessionId, body.request_id);
      const b = trialBounds(config, {
        maxTokens: body.model_policy.max_tokens,
        timeoutS: body.policy.timeout,
        precommitS: body.policy.precommit_timeout,
        redundancy: body.policy.redundancy,
        tier: body.policy.tier,
      });
      const { result, replayed } = await runDelegate(
        c.env,
        config,
        sessionId,
        {
          ...body,
          policy: { ...body.policy, redundancy: b.redundancy, timeout: b.timeoutS, precommit_timeout: b.precommitS },
          model_policy: { ...body.model_policy, max_tokens: b.maxTokens },
        },
        `trial-delegate:${version}`,
        caller,
      );
      return c.json({ ...result, trial: true }, 200, replayHeaders(replayed));
    },
  );
}

function validateRoute(version: "v1" | "v2") {
  return openApiApp().openapi(
    createRoute({
      method: "post",
      path: `/api/${version}/trial/validate`,
      tags: ["trial"],
      summary: "Validate without a key, under the trial quota and limits",
      request: jsonBody(ValidateRequestSchema),
      responses: { 200: json(VerdictResponseSchema, "The verdict"), ...trialFailures },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const config = loadConfig(c.env);
      const sessionId = trialSession(config, body.session_id);
      const caller = await admitTrialRequest(c, "validate", sessionId, body.request_id);
      const ms = (s: number) => Math.round(s * 1000);
      const b = trialBounds(config, verdictAsk(body));
      const { result, replayed } = await runValidate(
        c.env,
        sessionId,
        {
          ...body,
          policy: { ...body.policy, redundancy: b.redundancy, timeout_ms: ms(b.timeoutS), precommit_timeout_ms: ms(b.precommitS) },
          model_policy: { ...body.model_policy, max_tokens: b.maxTokens },
        },
        `trial-validate:${version}`,
        caller,
      );
      return c.json({ ...result, trial: true }, 200, replayHeaders(replayed));
    },
  );
}

function completionRoutes() {
  return openApiApp()
    .openapi(
      createRoute({
        method: "post",
        path: "/api/v1/trial/completions",
        tags: ["trial"],
        summary: "A completion without a key, under the trial quota and limits",
        request: jsonBody(CompletionRequestSchema),
        responses: { 200: completionOk, ...trialFailures },
      }),
      (c) => trialCompletion(c, undefined, c.req.valid("json")),
    )
    .openapi(
      createRoute({
        method: "post",
        path: "/api/v1/trial/completions/{sessionId}",
        tags: ["trial"],
        summary: "The same, on a named trial session",
        request: { params: SessionIdParamSchema, ...jsonBody(CompletionRequestSchema) },
        responses: { 200: completionOk, ...trialFailures },
      }),
      (c) => trialCompletion(c, c.req.valid("param").sessionId, c.req.valid("json")),
    );
}

const factcheckRoute = openApiApp().openapi(
  createRoute({
    method: "post",
    path: "/api/v1/trial/factcheck",
    tags: ["trial"],
    summary: "Factcheck without a key, under the trial quota and limits",
    request: jsonBody(FactcheckRequestSchema),
    responses: { 200: json(VerdictResponseSchema, "The verdict"), ...trialFailures },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const config = loadConfig(c.env);
    const sessionId = trialSession(config, body.session_id);
    const caller = await admitTrialRequest(c, "factcheck", sessionId, body.request_id);
    const b = trialBounds(config, verdictAsk(body));
    const { result, replayed } = await runFactcheck(
      c.env,
      config,
      {
        ...body,
        session_id: sessionId,
        policy: {
          ...body.policy,
          task_redundancy: 1,
          redundancy: b.redundancy,
          timeout_ms: Math.round(b.timeoutS * 1000),
          precommit_timeout_ms: Math.round(b.precommitS * 1000),
          precommit_timeout: undefined,
        },
        model_policy: { ...body.model_policy, max_tokens: b.maxTokens },
      },
      "trial-factcheck",
      caller,
    );
    return c.json({ ...result, trial: true }, 200, replayHeaders(replayed));
  },
);

export const trialRoutes = openApiApp()
  .route("/", completionRoutes())
  .route("/", delegateRoute("v1"))
  .route("/", delegateRoute("v2"))
  .route("/", validateRoute("v1"))
  .route("/", validateRoute("v2"))
  .route("/", factcheckRoute);
