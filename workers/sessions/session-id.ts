import { ApiError } from "../../domain/errors";

/** URL first, then body, then the configured default; otherwise the "missing session" error. */
export function resolveSessionId(fromUrl: number | undefined, fromBody: number | undefined, fallback: number | undefined): number {
  const id = fromUrl ?? fromBody ?? fallback;
  if (id === undefined) {
    throw new ApiError(400, "missing_session", "no session id in the URL or the body, and no default session is configured", {
      issues: [{ field: "session_id", message: "required" }],
    });
  }
  return id;
}
