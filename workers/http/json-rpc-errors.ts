import type { ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./app-env";
import type { ApiError } from "../../domain/errors";
import { surfaceError } from "./surface-error";

/** JSON-RPC 2.0's own codes for what goes wrong before a method runs; the rest is a server error. */
function jsonRpcCode(e: ApiError): number {
  if (e.code === "invalid_request" && /JSON/.test(e.message)) return -32700;
  if (e.status === 400 || e.status === 413 || e.status === 415) return -32600;
  return e.status >= 500 ? -32603 : -32000;
}

/** A JSON-RPC error response for an error that happened before (or instead of) a JSON-RPC method. */
export function jsonRpcError(e: ApiError) {
  return {
    jsonrpc: "2.0" as const,
    id: null,
    error: { code: jsonRpcCode(e), message: e.message, data: { code: e.code, ...(e.details === undefined ? {} : { details: e.details }) } },
  };
}

/**
 * The JSON-RPC surfaces' (A2A, MCP) error handler: the HTTP status stays
 * what it would be anywhere (401 without a key), the body is JSON-RPC, so
 * that a JSON-RPC client can read every failure.
 */
export const jsonRpcErrorHandler: ErrorHandler<AppEnv> = function jsonRpcErrorHandler(err, c) {
  // The MCP transport throws its JSON-RPC errors (parse error, invalid request) as HTTP exceptions carrying their response.
  if (err instanceof HTTPException && err.res) return err.getResponse();
  const e = surfaceError(err);
  return c.json(jsonRpcError(e), e.status, e.headers);
};
