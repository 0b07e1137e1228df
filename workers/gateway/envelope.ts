import { z } from "@hono/zod-openapi";
import type { ErrorHandler } from "hono";
import type { AppEnv } from "../http/app-env";
import { type ApiError, ErrorDetailsSchema } from "../../domain/errors";
import { surfaceError } from "../http/surface-error";

/** The hosted gateway's response envelope (the Web2 API Reference, "Hosted Completion"). */
export const EnvelopeSchema = z
  .object({
    request_id: z.string().nullable(),
    status: z.enum(["ok", "failed"]),
    model: z.string().nullable(),
    router_pool: z.string().nullable(),
    data: z.unknown(),
    error: z.object({ code: z.string(), message: z.string(), details: ErrorDetailsSchema.optional() }).nullable(),
  })
  .openapi("GatewayEnvelope");
export type Envelope = z.infer<typeof EnvelopeSchema>;

export function okEnvelope(requestId: string, model: string, pool: string, data: unknown): Envelope {
  return { request_id: requestId, status: "ok", model, router_pool: pool, data, error: null };
}

/** An error as an envelope; the request id travels in the error's details once the gateway assigned one. */
export function failedEnvelope(e: ApiError, context: { model?: string | undefined; pool?: string | undefined }): Envelope {
  const requestId = e.details?.["request_id"];
  return {
    request_id: typeof requestId === "string" ? requestId : null,
    status: "failed",
    model: context.model ?? null,
    router_pool: context.pool ?? null,
    data: null,
    error: { code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) },
  };
}

/** The envelope surface's error handler: every failure of `/v1/completions` answers in the envelope. */
export const envelopeErrorHandler: ErrorHandler<AppEnv> = function envelopeErrorHandler(err, c) {
  const e = surfaceError(err);
  return c.json(failedEnvelope(e, c.get("gatewayRequest") ?? {}), e.status, e.headers);
};

/** The same error the way OpenAI's API states errors (what the openai client parses). */
export function openAiError(e: ApiError) {
  const type =
    e.status === 401
      ? "authentication_error"
      : e.status === 429
        ? "rate_limit_error"
        : e.status === 402
          ? "insufficient_quota"
          : e.status >= 500
            ? "server_error"
            : "invalid_request_error";
  const issues = e.details?.["issues"];
  const first = Array.isArray(issues) ? issues[0] : undefined;
  const param = first && typeof first === "object" && typeof first["field"] === "string" ? first["field"] : null;
  return { error: { message: e.message, type, param, code: e.code } };
}

/** The OpenAI surface's error handler. */
export const openAiErrorHandler: ErrorHandler<AppEnv> = function openAiErrorHandler(err, c) {
  const e = surfaceError(err);
  return c.json(openAiError(e), e.status, e.headers);
};
