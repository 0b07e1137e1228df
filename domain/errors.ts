import { z } from "@hono/zod-openapi";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * What an error may carry beyond its code and message: JSON two levels deep
 * (lists of field issues, of miners, of attempts), so that it crosses a
 * Durable Object RPC boundary intact and its type stays precise (`unknown`
 * collapses the RPC result unions callers narrow; a recursive JSON type is
 * too deep for the RPC type mapping).
 */
const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const Flat = z.record(z.string(), Scalar);
export const ErrorDetailsSchema = z.record(z.string(), z.union([Scalar, Flat, z.array(z.union([Scalar, Flat]))]));
export type ErrorDetails = z.infer<typeof ErrorDetailsSchema>;

/** The one error body every route answers with. */
export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "invalid_request" }),
      message: z.string(),
      details: ErrorDetailsSchema.optional(),
    }),
  })
  .openapi("Error");
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/**
 * A failure as a Durable Object returns it over RPC. Objects return failures
 * rather than throw them because RPC keeps only an error's message; the
 * caller turns it back into an `ApiError` with `ApiError.from`.
 */
export type Failure = {
  ok: false;
  status: ContentfulStatusCode;
  code: string;
  message: string;
  details?: ErrorDetails;
  /** Response headers the failure travels with (a replay marker, Retry-After). */
  headers?: Record<string, string>;
};

/**
 * An error that knows its own HTTP response. Thrown anywhere (route, Durable
 * Object, miner client) and rendered by the error handler of the surface the
 * request came in on (router JSON, gateway envelope, OpenAI shape, JSON-RPC).
 */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly details?: ErrorDetails;
  readonly headers?: Record<string, string>;
  constructor(status: ContentfulStatusCode, code: string, message: string, details?: ErrorDetails, headers?: Record<string, string>, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }

  /** Back from a Durable Object's failure; the failure is kept as the cause. */
  static from(failure: Failure, cause?: unknown): ApiError {
    return new ApiError(failure.status, failure.code, failure.message, failure.details, failure.headers, { cause: cause ?? failure });
  }

  /** The same error with more details (a request id, say) and this one as the cause. */
  withDetails(extra: ErrorDetails): ApiError {
    return new ApiError(this.status, this.code, this.message, { ...this.details, ...extra }, this.headers, { cause: this });
  }

  toFailure(): Failure {
    return {
      ok: false,
      status: this.status,
      code: this.code,
      message: this.message,
      ...(this.details === undefined ? {} : { details: this.details }),
      ...(this.headers === undefined ? {} : { headers: this.headers }),
    };
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

export const badRequest = (message: string, details?: ErrorDetails) => new ApiError(400, "invalid_request", message, details);
export const notFound = (code: string, message: string, details?: ErrorDetails) => new ApiError(404, code, message, details);

/**
 * How much of a schema failure an error shows: a client can send a body of
 * thousands of unknown keys (or of failing fields, or keys of any length),
 * and its error must stay small whatever it sent. The first issues are
 * listed, the rest counted; an unknown-keys issue names its first keys and
 * counts the rest; every field and message is cut short.
 */
const MAX_ISSUES = 10;
const MAX_KEYS_NAMED = 10;
const MAX_TEXT = 200;

const clip = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text);

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code !== "unrecognized_keys" || issue.keys.length <= MAX_KEYS_NAMED) return clip(issue.message);
  const named = issue.keys.slice(0, MAX_KEYS_NAMED).map((k) => JSON.stringify(clip(k)));
  return `Unrecognized keys: ${named.join(", ")} and ${issue.keys.length - MAX_KEYS_NAMED} more`;
}

/** Shape zod issues into `details`: one entry per field, dotted path first (the first `MAX_ISSUES` of them). */
export function zodIssues(error: z.ZodError): { field: string; message: string; code: string }[] {
  return error.issues.slice(0, MAX_ISSUES).map((issue) => ({
    field: clip(issue.path.map(String).join(".")) || "(body)",
    message: issueMessage(issue),
    code: issue.code,
  }));
}

export function validationError(error: z.ZodError, where: string): ApiError {
  const issues = zodIssues(error);
  const first = issues[0];
  const message = first ? `invalid ${where}: ${first.field}: ${first.message}` : `invalid ${where}`;
  const omitted = error.issues.length - issues.length;
  return new ApiError(400, "invalid_request", message, { issues, ...(omitted > 0 ? { issues_omitted: omitted } : {}) }, undefined, { cause: error });
}

/** A field-level 400, shaped like a schema failure so clients read both the same way. */
export function fieldError(field: string, message: string, code = "invalid_request"): ApiError {
  return new ApiError(400, code, `invalid request: ${field}: ${message}`, { issues: [{ field, message }] });
}

/**
 * Every thrown value becomes an `ApiError` here: ours as they are, zod
 * errors as a 400, an object reset as a retryable 503, anything else a 500
 * that leaks nothing (logged with its cause). The HTTP surfaces add the
 * framework's own exceptions (workers/http/surface-error.ts).
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof z.ZodError) return validationError(err, "request");
  if (isObjectReset(err)) {
    console.error("a Durable Object restarted under a request", err);
    return new ApiError(
      503,
      "object_restarted",
      "the request was cut short by a restart; retrying it is safe (a completion with the same request_id is never run twice: it answers its outcome)",
      undefined,
      { "retry-after": "1" },
      { cause: err },
    );
  }
  console.error("unhandled error", err);
  return new ApiError(500, "internal_error", "internal error", undefined, undefined, { cause: err });
}

/** The runtime marks the error a call to a Durable Object gets when that object was reset (crashed, aborted, redeployed) under it. */
const isObjectReset = (err: unknown): boolean => err instanceof Error && (err as Error & { durableObjectReset?: unknown }).durableObjectReset === true;
