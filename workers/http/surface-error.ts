import { HTTPException } from "hono/http-exception";
import { ApiError, toApiError } from "../../domain/errors";

/**
 * Every value thrown at an HTTP surface becomes an `ApiError` here: Hono's
 * HTTP exceptions (bad JSON, the body limit) by their status, everything
 * else as the domain makes it (domain/errors.ts `toApiError`).
 */
export function surfaceError(err: unknown): ApiError {
  if (err instanceof HTTPException) {
    const status = err.status;
    const code = status === 413 ? "payload_too_large" : status === 401 ? "unauthorized" : status === 400 ? "invalid_request" : "http_error";
    const message = status === 400 && /json/i.test(err.message) ? "request body is not valid JSON" : err.message || "request failed";
    return new ApiError(status, code, message, undefined, undefined, { cause: err });
  }
  return toApiError(err);
}

/** The router surface's error handler: the plain error body. */
export function toErrorResponse(err: unknown): Response {
  return surfaceError(err).toResponse();
}
