import { z } from "@hono/zod-openapi";
import { ApiError } from "../http/errors";

/** The hosted gateway's response envelope (seeds/001, "Hosted Completion"). */
export const EnvelopeSchema = z
  .object({
    request_id: z.string().nullable(),
    status: z.enum(["ok", "failed"]),
    model: z.string().nullable(),
    router_pool: z.string().nullable(),
    data: z.unknown(),
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }).nullable(),
  })
  .openapi("GatewayEnvelope");
export type Envelope = z.infer<typeof EnvelopeSchema>;

export function okEnvelope(requestId: string, model: string, pool: string, data: unknown): Envelope {
  return { request_id: requestId, status: "ok", model, router_pool: pool, data, error: null };
}

/** Any error as an envelope with its status (unknown errors are a 500 that says nothing). */
export function failedEnvelope(err: unknown, context: { model?: string | undefined; pool?: string | undefined }): { status: number; body: Envelope; headers: Record<string, string> } {
  const e = err instanceof ApiError ? err : new ApiError(500, "internal_error", "internal error");
  if (!(err instanceof ApiError)) console.error("gateway error", err);
  const details = (e.details ?? undefined) as Record<string, unknown> | undefined;
  const requestId = typeof details?.["request_id"] === "string" ? (details["request_id"] as string) : null;
  return {
    status: e.status,
    headers: e.headers ?? {},
    body: {
      request_id: requestId,
      status: "failed",
      model: context.model ?? null,
      router_pool: context.pool ?? null,
      data: null,
      error: { code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) },
    },
  };
}

/** The same error the way OpenAI's API states errors (what the openai client parses). */
export function openAiError(err: unknown): { status: number; body: { error: { message: string; type: string; param: string | null; code: string } }; headers: Record<string, string> } {
  const e = err instanceof ApiError ? err : new ApiError(500, "internal_error", "internal error");
  if (!(err instanceof ApiError)) console.error("gateway error", err);
  const type = e.status === 401 ? "authentication_error" : e.status === 429 ? "rate_limit_error" : e.status === 402 ? "insufficient_quota" : e.status >= 500 ? "server_error" : "invalid_request_error";
  const param = ((e.details as { issues?: { field: string }[] } | undefined)?.issues?.[0]?.field) ?? null;
  return { status: e.status, headers: e.headers ?? {}, body: { error: { message: e.message, type, param, code: e.code } } };
}
