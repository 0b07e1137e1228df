import { createMiddleware } from "hono/factory";
import { ApiError } from "../http/errors";
import { matchesAnyKey } from "../crypto/constant-time";
import { loadConfig } from "../config/config";
import type { AppEnv } from "../http/app-env";

function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

const unauthorized = (message: string) => new ApiError(401, "unauthorized", message, undefined, { "WWW-Authenticate": 'Bearer realm="router"' });

/** Requires one of the router's API keys (or the admin key, which may do anything). */
export function requireRouterKey() {
  return createMiddleware<AppEnv>(async function requireRouterKey(c, next) {
    const token = bearerToken(c.req.header("Authorization"));
    if (!token) throw unauthorized("missing bearer token");
    const config = loadConfig(c.env);
    if (!(await matchesAnyKey(token, [...config.routerKeys, config.adminKey]))) {
      throw unauthorized("invalid API key");
    }
    c.set("caller", { kind: "key", id: token });
    await next();
  });
}

/** Requires the admin key; router keys are not enough. */
export function requireAdminKey() {
  return createMiddleware<AppEnv>(async function requireAdminKey(c, next) {
    const token = bearerToken(c.req.header("Authorization"));
    if (!token) throw unauthorized("missing bearer token");
    if (!(await matchesAnyKey(token, [loadConfig(c.env).adminKey]))) {
      throw unauthorized("invalid admin key");
    }
    await next();
  });
}
