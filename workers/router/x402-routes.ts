import { createRoute, z } from "@hono/zod-openapi";
import type { Context, Next } from "hono";
import { loadConfig, type RouterConfig } from "../config/config";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/errors";
import { openApiApp } from "../http/openapi";
import { completionOk, json } from "../http/responses";
import { SessionIdParamSchema } from "../schemas/common";
import { CompletionRequestSchema } from "../schemas/completion";
import { DelegateRequestSchema, FactcheckRequestSchema, ValidateRequestSchema, VerdictResponseSchema } from "../schemas/work";
import { runDelegate } from "../work/delegate";
import { runFactcheck } from "../work/factcheck";
import { runValidate } from "../work/validate";
import { x402Enabled, x402Middleware, type X402Family } from "../x402/payments";
import { x402V1Compat } from "../x402/v1-compat";
import { answerCompletion } from "../sessions/answer-completion";
import { sessionClient } from "../sessions/session-client";
import { resolveSessionId } from "../sessions/session-id";

/** What the gate reads of a body before payment: enough to recognise a retry of a paid request. */
const RetryPeek = z.object({ request_id: z.string().optional(), session_id: z.number().int().min(0).optional() });

/** Paid request ids live in their own namespace. */
const paidRequestId = (requestId: string | undefined) => (requestId ? `x402.${requestId}` : undefined);

const middlewares = new WeakMap<object, ReturnType<typeof x402Middleware>>();

function familyOf(path: string): X402Family {
  return (["completions", "delegate", "validate", "factcheck"] as const).find((f) => path.includes(`/x402/${f}`)) ?? "ping";
}

/**
 * In front of every paid route: 404 where the family is not enabled; a
 * retried request whose request_id the session already ran goes straight to
 * the handler (answered from the first task, nothing charged); everything
 * else passes the x402 payment middleware.
 */
async function x402Gate(c: Context<AppEnv>, next: Next) {
  const config = loadConfig(c.env);
  const family = familyOf(c.req.path);
  if (!x402Enabled(config, family)) throw new ApiError(404, "not_found", `x402 ${family} is not enabled on this router`);
  if (c.req.method === "POST") {
    const body = RetryPeek.safeParse(await c.req.json().catch(() => null)).data;
    const fromUrl = /\/x402\/completions\/(\d{1,15})$/.exec(c.req.path)?.[1];
    const sessionId = fromUrl !== undefined ? Number(fromUrl) : (body?.session_id ?? config.defaultSessionId);
    const requestId = paidRequestId(body?.request_id);
    if (requestId && sessionId !== undefined && (await sessionClient(c.env, sessionId).knowsRequest(requestId))) return next();
  }
  let middleware = middlewares.get(c.env);
  if (!middleware) {
    middleware = x402Middleware(c.env, config);
    middlewares.set(c.env, middleware);
  }
  return middleware(c, next);
}

const paid = { tags: ["x402"] };
const jsonBody = <T>(schema: T) => ({ body: { content: { "application/json": { schema } }, required: true } });
const responses = (schema: z.ZodType, what: string) => ({
  200: json(schema, `${what}; PAYMENT-RESPONSE carries the settlement`),
  402: { content: { "application/json": { schema: z.record(z.string(), z.unknown()) } }, description: "Payment required: PAYMENT-REQUIRED carries the requirements" },
});
const AnyResult = z.record(z.string(), z.unknown());

const sessionFor = (config: RouterConfig, id: number | undefined) => resolveSessionId(undefined, id, config.defaultSessionId);

export const x402Routes = (() => {
  const app = openApiApp();
  for (const prefix of ["/api/v1/x402/*", "/api/v2/x402/*"]) app.use(prefix, x402V1Compat, x402Gate);
  return app
    .openapi(createRoute({ method: "get", path: "/api/v1/x402/ping", ...paid, summary: "A paid ping: proves a payment end to end", responses: responses(z.object({ status: z.literal("ok"), paid: z.literal(true), time: z.string() }), "Paid") }), (c) =>
      c.json({ status: "ok" as const, paid: true as const, time: new Date().toISOString() }, 200),
    )
    .openapi(createRoute({ method: "post", path: "/api/v1/x402/completions", ...paid, summary: "A completion paid with x402", request: jsonBody(CompletionRequestSchema), responses: { ...responses(AnyResult, "The completion"), 200: completionOk } }), (c) => {
      const body = c.req.valid("json");
      return answerCompletion(c, undefined, { ...body, request_id: paidRequestId(body.request_id) });
    })
    .openapi(
      createRoute({ method: "post", path: "/api/v1/x402/completions/{sessionId}", ...paid, summary: "A completion on the named session, paid with x402", request: { params: SessionIdParamSchema, ...jsonBody(CompletionRequestSchema) }, responses: { ...responses(AnyResult, "The completion"), 200: completionOk } }),
      (c) => {
        const body = c.req.valid("json");
        return answerCompletion(c, c.req.valid("param").sessionId, { ...body, request_id: paidRequestId(body.request_id) });
      },
    )
    .openapi(createRoute({ method: "post", path: "/api/v1/x402/delegate", ...paid, summary: "Delegate, paid with x402", request: jsonBody(DelegateRequestSchema), responses: responses(AnyResult, "The result") }), async (c) => {
      const body = c.req.valid("json");
      const config = loadConfig(c.env);
      return c.json(await runDelegate(c.env, config, sessionFor(config, body.session_id), { ...body, request_id: paidRequestId(body.request_id) }, "x402-delegate:v1"), 200);
    })
    .openapi(createRoute({ method: "post", path: "/api/v2/x402/delegate", ...paid, summary: "Delegate v2, paid with x402", request: jsonBody(DelegateRequestSchema), responses: responses(AnyResult, "The result") }), async (c) => {
      const body = c.req.valid("json");
      const config = loadConfig(c.env);
      return c.json(await runDelegate(c.env, config, sessionFor(config, body.session_id), { ...body, request_id: paidRequestId(body.request_id) }, "x402-delegate:v2"), 200);
    })
    .openapi(createRoute({ method: "post", path: "/api/v1/x402/validate", ...paid, summary: "Validate, paid with x402", request: jsonBody(ValidateRequestSchema), responses: responses(VerdictResponseSchema, "The verdict") }), async (c) => {
      const body = c.req.valid("json");
      return c.json(await runValidate(c.env, sessionFor(loadConfig(c.env), body.session_id), { ...body, request_id: paidRequestId(body.request_id) }, "x402-validate:v1"), 200);
    })
    .openapi(createRoute({ method: "post", path: "/api/v2/x402/validate", ...paid, summary: "Validate v2, paid with x402", request: jsonBody(ValidateRequestSchema), responses: responses(VerdictResponseSchema, "The verdict") }), async (c) => {
      const body = c.req.valid("json");
      return c.json(await runValidate(c.env, sessionFor(loadConfig(c.env), body.session_id), { ...body, request_id: paidRequestId(body.request_id) }, "x402-validate:v2"), 200);
    })
    .openapi(createRoute({ method: "post", path: "/api/v1/x402/factcheck", ...paid, summary: "Factcheck, paid with x402", request: jsonBody(FactcheckRequestSchema), responses: responses(VerdictResponseSchema, "The verdict") }), async (c) => {
      const body = c.req.valid("json");
      return c.json(await runFactcheck(c.env, loadConfig(c.env), { ...body, request_id: paidRequestId(body.request_id) }, "x402-factcheck"), 200);
    });
})();
