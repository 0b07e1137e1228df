import { createRoute, z } from "@hono/zod-openapi";
import { requireRouterKey } from "../auth/bearer";
import { loadConfig } from "../../domain/config/config";
import { ErrorBodySchema } from "../../domain/errors";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import {
  DelegateRequestSchema,
  DelegateV3RequestSchema,
  FactcheckRequestSchema,
  ValidateRequestSchema,
  ValidateV3RequestSchema,
  VerdictResponseSchema,
} from "../../domain/schemas/work";
import { runDelegate } from "../work/delegate";
import { runFactcheck } from "../work/factcheck";
import { runValidate } from "../work/validate";
import { resolveSessionId } from "../sessions/session-id";
import { poolSession, requestedReplicas } from "../sessions/session-pools";
import { replayHeaders } from "../sessions/answer-completion";
import { callerOf } from "../http/caller-of";

const DelegateResponseSchema = z
  .object({
    request_id: z.string().nullable(),
    session_id: z.number().int(),
    task_id: z.number().int(),
    status: z.literal("completed"),
    result: z.string(),
  })
  .passthrough()
  .openapi("DelegateResult");

const failures = {
  400: errorResponses[400],
  401: errorResponses[401],
  404: errorResponses[404],
  413: errorResponses[413],
  502: { content: { "application/json": { schema: ErrorBodySchema } }, description: "Miners, the page or the search provider failed" },
  503: { content: { "application/json": { schema: ErrorBodySchema } }, description: "No miner available" },
  504: { content: { "application/json": { schema: ErrorBodySchema } }, description: "No result before the timeout" },
} as const;

const authed = { security: bearerSecurity, middleware: [requireRouterKey()] };
const jsonBody = <T>(schema: T) => ({ body: { content: { "application/json": { schema } }, required: true } });

const pool = (replicas: 1 | 3 | 5, sessionId: number) => ({ replicas, session_id: sessionId });

const DELEGATE_SUMMARY = {
  v1: "Delegates a task (session from the body or the default)",
  v2: "Structured delegation: objective and input (or task_request_input), policy and model policy",
} as const;
const VALIDATE_SUMMARY = {
  v1: "Validates a claim (session from the body or the default)",
  v2: "Validates a claim under an explicit policy; per-run data when redundancy > 1",
} as const;

/** Delegate v1 and v2: the same work on the body's session (or the default); the version names the flow. */
function delegateRoute(version: "v1" | "v2") {
  return openApiApp().openapi(
    createRoute({
      method: "post",
      path: `/api/${version}/delegate`,
      tags: ["delegate"],
      summary: DELEGATE_SUMMARY[version],
      ...authed,
      request: jsonBody(DelegateRequestSchema),
      responses: { 200: json(DelegateResponseSchema, "The result and its consensus record"), ...failures },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const config = loadConfig(c.env);
      const sessionId = resolveSessionId(undefined, body.session_id, config.defaultSessionId);
      const { result, replayed } = await runDelegate(c.env, config, sessionId, body, `delegate:${version}`, callerOf(c));
      return c.json(result, 200, replayHeaders(replayed));
    },
  );
}

/** Validate v1 and v2, likewise. */
function validateRoute(version: "v1" | "v2") {
  return openApiApp().openapi(
    createRoute({
      method: "post",
      path: `/api/${version}/validate`,
      tags: ["validate"],
      summary: VALIDATE_SUMMARY[version],
      ...authed,
      request: jsonBody(ValidateRequestSchema),
      responses: { 200: json(VerdictResponseSchema, "The aggregated verdict"), ...failures },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const sessionId = resolveSessionId(undefined, body.session_id, loadConfig(c.env).defaultSessionId);
      const { result, replayed } = await runValidate(c.env, sessionId, body, `validate:${version}`, callerOf(c));
      return c.json(result, 200, replayHeaders(replayed));
    },
  );
}

/** v3: no session in the body; the replica tier picks a predefined session and sets the redundancy unless the policy names one. */
const v3Routes = openApiApp()
  .openapi(
    createRoute({
      method: "post",
      path: "/api/v3/delegate",
      tags: ["delegate"],
      summary: "Delegation through the session pool of a replica tier (replicas 1, 3 or 5)",
      ...authed,
      request: jsonBody(DelegateV3RequestSchema),
      responses: { 200: json(DelegateResponseSchema, "The result, its consensus record and the pool"), ...failures },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const config = loadConfig(c.env);
      const replicas = requestedReplicas(body);
      const sessionId = poolSession(config, replicas);
      const policy = { ...body.policy, redundancy: body.policy.redundancy ?? replicas };
      const { result, replayed } = await runDelegate(c.env, config, sessionId, { ...body, policy }, "delegate:v3", callerOf(c));
      return c.json({ ...result, pool: pool(replicas, sessionId) }, 200, replayHeaders(replayed));
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/api/v3/validate",
      tags: ["validate"],
      summary: "Validate v2 through the session pool of a replica tier, aggregated",
      ...authed,
      request: jsonBody(ValidateV3RequestSchema),
      responses: { 200: json(VerdictResponseSchema, "The aggregated verdict and the pool"), ...failures },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const replicas = requestedReplicas(body);
      const sessionId = poolSession(loadConfig(c.env), replicas);
      const policy = { ...body.policy, redundancy: body.policy.redundancy ?? replicas };
      const { result, replayed } = await runValidate(c.env, sessionId, { ...body, policy }, "validate:v3", callerOf(c));
      return c.json({ ...result, pool: pool(replicas, sessionId) }, 200, replayHeaders(replayed));
    },
  );

export const workRoutes = openApiApp()
  .route("/", delegateRoute("v1"))
  .route("/", delegateRoute("v2"))
  .route("/", validateRoute("v1"))
  .route("/", validateRoute("v2"))
  .route("/", v3Routes);

/** Factcheck under its name and its alias. */
function factcheckRoute(path: "/api/v1/factcheck" | "/api/v1/fact-check") {
  return openApiApp().openapi(
    createRoute({
      method: "post",
      path,
      tags: ["factcheck"],
      summary: "Fact-checks a statement, standard or realtime (with evidence from the search provider)",
      ...authed,
      request: jsonBody(FactcheckRequestSchema),
      responses: {
        200: json(VerdictResponseSchema, "The verdict"),
        ...failures,
        501: { content: { "application/json": { schema: ErrorBodySchema } }, description: "Realtime mode without a search provider" },
      },
    }),
    async (c) => {
      const { result, replayed } = await runFactcheck(c.env, loadConfig(c.env), c.req.valid("json"), "factcheck", callerOf(c));
      return c.json(result, 200, replayHeaders(replayed));
    },
  );
}

export const factcheckRoutes = openApiApp().route("/", factcheckRoute("/api/v1/factcheck")).route("/", factcheckRoute("/api/v1/fact-check"));
