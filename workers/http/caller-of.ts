import type { Context } from "hono";
import { ApiError } from "../../domain/errors";
import type { Caller } from "../../domain/sessions/caller";
import type { AppEnv } from "./app-env";

/** The caller a route's authentication established; its absence is a wiring fault, refused rather than shared. */
export function callerOf(c: Context<AppEnv>): Caller {
  const caller = c.get("caller");
  if (!caller) throw new ApiError(401, "unauthorized", "the request carries no caller identity");
  return caller;
}
