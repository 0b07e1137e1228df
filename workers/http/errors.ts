import type { ContentfulStatusCode } from "hono/utils/http-status";
import { HTTPException } from "hono/http-exception";
import { z } from "@hono/zod-openapi";

/** The one error body every route answers with. */
export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "invalid_request" }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi("Error");
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/**
 * An error that knows its own HTTP response. Thrown anywhere (route, Durable
 * Object caller, miner client) and turned into a response by `toErrorResponse`.
 */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }

  toResponse(): Response {
    return Response.json(this.toBody(), { status: this.status, headers: this.headers });
  }
}

export const badRequest = (message: string, details?: unknown) =>
  new ApiError(400, "invalid_request", message, details);
export const notFound = (code: string, message: string, details?: unknown) =>
  new ApiError(404, code, message, details);

/** Shape zod issues into `details`: one entry per field, dotted path first. */
export function zodIssues(error: z.ZodError): { field: string; message: string; code: string }[] {
  return error.issues.map((issue) => ({
    field: issue.path.map(String).join(".") || "(body)",
    message: issue.message,
    code: issue.code,
  }));
}

export function validationError(error: z.ZodError, where: string): ApiError {
  const issues = zodIssues(error);
  const first = issues[0];
  const message = first
    ? `invalid ${where}: ${first.field}: ${first.message}`
    : `invalid ${where}`;
  return new ApiError(400, "invalid_request", message, { issues });
}

/**
 * Every thrown value becomes a response here, and nowhere else. Unknown
 * errors are logged and answered with a generic 500 that leaks nothing.
 */
export function toErrorResponse(err: unknown): Response {
  if (err instanceof ApiError) return err.toResponse();
  if (err instanceof HTTPException) {
    const status = err.status;
    const code =
      status === 413 ? "payload_too_large" : status === 401 ? "unauthorized" : status === 400 ? "invalid_request" : "http_error";
    const message = status === 400 && /json/i.test(err.message) ? "request body is not valid JSON" : err.message || "request failed";
    return new ApiError(status as ContentfulStatusCode, code, message).toResponse();
  }
  if (err instanceof z.ZodError) return validationError(err, "request").toResponse();
  console.error("unhandled error", err);
  return new ApiError(500, "internal_error", "internal error").toResponse();
}

