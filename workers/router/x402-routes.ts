import { createRoute, z } from "@hono/zod-openapi";
import type { Context, Next } from "hono";
import { loadConfig, type RouterConfig } from "../../domain/config/config";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../../domain/errors";
import { openApiApp } from "../http/openapi";
import { completionOk, json } from "../http/responses";
import { SessionIdParamSchema } from "../../domain/schemas/common";
import { CompletionRequestSchema } from "../../domain/schemas/completion";
import { DelegateRequestSchema, FactcheckRequestSchema, ValidateRequestSchema, VerdictResponseSchema } from "../../domain/schemas/work";
import { runDelegate } from "../work/delegate";
import { runFactcheck } from "../work/factcheck";
import { runValidate } from "../work/validate";
import { x402Enabled, x402Middleware, type X402Family } from "../x402/payments";
import { paymentAuthorization } from "../x402/payment-claims";
import { x402V1Compat } from "../x402/v1-compat";
import { answerCompletion, replayHeaders } from "../sessions/answer-completion";
import { callerOf } from "../http/caller-of";
import { resolveSessionId } from "../sessions/session-id";
import { decodePaymentSignatureHeader } from "@x402/core/http";
import { type TaskBilling, usdMicros } from "../../domain/rewards/task-billing";
import { recordActivity } from "../activity/record-activity";
import { x402Outcome } from "../activity/x402-activity";

/** What a paid request was paid (its family's configured price, which the payment was verified against): its miners share a part of it. */
const paidAs = (c: Context<AppEnv>, family: Exclude<X402Family, "ping">): TaskBilling => ({ kind: "paid", micros: usdMicros(loadConfig(c.env).x402.prices[family]) });
const paidCompletion = (c: Context<AppEnv>) => paidAs(c, "completions");

const middlewares = new WeakMap<object, ReturnType<typeof x402Middleware>>();

function familyOf(path: string): X402Family {
  return (["completions", "delegate", "validate", "factcheck"] as const).find((f) => path.includes(`/x402/${f}`)) ?? "ping";
}

/** The payer of the payment the middleware verified (it reads the same header). */
function verifiedPayer(c: Context<AppEnv>): string {
  const header = c.req.header("PAYMENT-SIGNATURE");
  const payer = header ? paymentAuthorization(decodePaymentSignatureHeader(header).payload)?.from : undefined;
  if (!payer) throw new ApiError(402, "payment_required", "the payment names no payer");
  return payer;
}

/**
 * In front of every paid route: 404 where the family is not enabled; then
 * the x402 payment middleware. Its handler runs only for a verified
 * payment, as that payment's payer: the payer's address is the namespace of
 * its request ids, so a retry must pay again (its payment is verified, the
 * earlier task answers, and nothing is settled), and no other caller's id
 * answers a paid route. What happened to the payment counts in the day's
 * x402 activity.
 */
async function x402Gate(c: Context<AppEnv>, next: Next) {
  const config = loadConfig(c.env);
  const family = familyOf(c.req.path);
  if (!x402Enabled(config, family)) throw new ApiError(404, "not_found", `x402 ${family} is not enabled on this router`);
  let middleware = middlewares.get(c.env);
  if (!middleware) {
    middleware = x402Middleware(c.env, config);
    middlewares.set(c.env, middleware);
  }
  const carriedPayment = c.req.header("PAYMENT-SIGNATURE") !== undefined;
  let workRan = false;
  const answer = await middleware(c, async () => {
    workRan = true;
    c.set("caller", { kind: "x402", id: verifiedPayer(c) });
    await next();
  });
  const res = answer ?? c.res;
  const outcome = x402Outcome({ carriedPayment, workRan, status: res.status, paymentResponse: res.headers.get("PAYMENT-RESPONSE") });
  if (outcome.admitted + outcome.refused + outcome.settled > 0) {
    recordActivity(c, { channel: "x402", ...outcome, settled_micros: outcome.settled * usdMicros(config.x402.prices[family]) });
  }
  return answer;
}

const paid = { tags: ["x402"] };
const jsonBody = <T>(schema: T) => ({ body: { content: { "application/json": { schema } }, required: true } });
const responses = (schema: z.ZodType, what: string) => ({
  200: json(schema, `${what}; PAYMENT-RESPONSE carries the settlement`),
  402: { content: { "application/json": { schema: z.record(z.string(), z.unknown()) } }, description: "Payment required: PAYMENT-REQUIRED carries the requirements" },
});
const AnyResult = z.record(z.string(), z.unknown());

const sessionFor = (config: RouterConfig, id: number | undefined) => resolveSessionId(undefined, id, config.defaultSessionId);

/** Paid delegate, v1 and v2: the keyed work, on the payer's namespace; the version names the flow. */
function paidDelegate(version: "v1" | "v2") {
  return openApiApp().openapi(
    createRoute({
      method: "post",
      path: `/api/${version}/x402/delegate`,
      ...paid,
      summary: `Delegate ${version}, paid with x402`,
      request: jsonBody(DelegateRequestSchema),
      responses: responses(AnyResult, "The result"),
    }),
    async (c) => {
      const body = c.req.valid("json");
      const config = loadConfig(c.env);
      const { result, replayed } = await runDelegate(c.env, config, sessionFor(config, body.session_id), body, `x402-delegate:${version}`, callerOf(c), paidAs(c, "delegate"));
      return c.json(result, 200, replayHeaders(replayed));
    },
  );
}

/** Paid validate, v1 and v2, likewise. */
function paidValidate(version: "v1" | "v2") {
  return openApiApp().openapi(
    createRoute({
      method: "post",
      path: `/api/${version}/x402/validate`,
      ...paid,
      summary: `Validate ${version}, paid with x402`,
      request: jsonBody(ValidateRequestSchema),
      responses: responses(VerdictResponseSchema, "The verdict"),
    }),
    async (c) => {
      const body = c.req.valid("json");
      const { result, replayed } = await runValidate(c.env, sessionFor(loadConfig(c.env), body.session_id), body, `x402-validate:${version}`, callerOf(c), paidAs(c, "validate"));
      return c.json(result, 200, replayHeaders(replayed));
    },
  );
}

export const x402Routes = (() => {
  const app = openApiApp();
  for (const prefix of ["/api/v1/x402/*", "/api/v2/x402/*"]) app.use(prefix, x402V1Compat, x402Gate);
  return app
    .openapi(
      createRoute({
        method: "get",
        path: "/api/v1/x402/ping",
        ...paid,
        summary: "A paid ping: proves a payment end to end",
        responses: responses(z.object({ status: z.literal("ok"), paid: z.literal(true), time: z.string() }), "Paid"),
      }),
      (c) => c.json({ status: "ok" as const, paid: true as const, time: new Date().toISOString() }, 200),
    )
    .openapi(
      createRoute({
        method: "post",
        path: "/api/v1/x402/completions",
        ...paid,
        summary: "A completion paid with x402",
        request: jsonBody(CompletionRequestSchema),
        responses: { ...responses(AnyResult, "The completion"), 200: completionOk },
      }),
      (c) => {
        return answerCompletion(c, callerOf(c), undefined, c.req.valid("json"), { billing: paidCompletion(c) });
      },
    )
    .openapi(
      createRoute({
        method: "post",
        path: "/api/v1/x402/completions/{sessionId}",
        ...paid,
        summary: "A completion on the named session, paid with x402",
        request: { params: SessionIdParamSchema, ...jsonBody(CompletionRequestSchema) },
        responses: { ...responses(AnyResult, "The completion"), 200: completionOk },
      }),
      (c) => {
        return answerCompletion(c, callerOf(c), c.req.valid("param").sessionId, c.req.valid("json"), { billing: paidCompletion(c) });
      },
    )
    .openapi(
      createRoute({
        method: "post",
        path: "/api/v1/x402/factcheck",
        ...paid,
        summary: "Factcheck, paid with x402",
        request: jsonBody(FactcheckRequestSchema),
        responses: responses(VerdictResponseSchema, "The verdict"),
      }),
      async (c) => {
        const body = c.req.valid("json");
        const { result, replayed } = await runFactcheck(c.env, loadConfig(c.env), body, "x402-factcheck", callerOf(c), paidAs(c, "factcheck"));
        return c.json(result, 200, replayHeaders(replayed));
      },
    )
    .route("/", paidDelegate("v1"))
    .route("/", paidDelegate("v2"))
    .route("/", paidValidate("v1"))
    .route("/", paidValidate("v2"));
})();
