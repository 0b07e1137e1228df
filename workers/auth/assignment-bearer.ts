import { createMiddleware } from "hono/factory";
import { loadConfig } from "../../domain/config/config";
import type { Env } from "../env";
import { ApiError } from "../../domain/errors";
import { type AssignmentClaims, verifyAssignmentToken } from "../../domain/auth/assignment-token";

/**
 * Route middleware of the off-chain routes: miners authenticate with the
 * assignment token their task came with, not a router key. As middleware it
 * runs before the route's validators, so a caller without a valid token
 * learns nothing of the input schema; the claims go to the handler.
 */
export function requireAssignmentToken() {
  return createMiddleware<{ Bindings: Env; Variables: { assignment: AssignmentClaims } }>(async function requireAssignmentToken(c, next) {
    const token = /^Bearer\s+(\S+)$/i.exec(c.req.header("Authorization") ?? "")?.[1];
    const claims = token ? await verifyAssignmentToken(loadConfig(c.env).payloadMasterKey, token) : null;
    if (!claims) {
      throw new ApiError(401, "unauthorized", "missing, invalid or expired assignment token", undefined, { "WWW-Authenticate": 'Bearer realm="miner"' });
    }
    c.set("assignment", claims);
    await next();
  });
}
