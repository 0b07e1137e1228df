import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../../domain/errors";
import { matchesAnyKey } from "../../domain/crypto/constant-time";
import { loadConfig, type RouterConfig } from "../../domain/config/config";
import type { AppEnv } from "../http/app-env";

function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

const unauthorized = (message: string) => new ApiError(401, "unauthorized", message, undefined, { "WWW-Authenticate": 'Bearer realm="router"' });

/** The keys a router key may be, per configuration (a request compared its token with a list built afresh). */
const acceptedKeys = new WeakMap<RouterConfig, readonly string[]>();

function routerKeysOf(config: RouterConfig): readonly string[] {
  let keys = acceptedKeys.get(config);
  if (!keys) {
    keys = [...config.routerKeys, config.adminKey];
    acceptedKeys.set(config, keys);
  }
  return keys;
}

async function isRouterKey(c: Context<AppEnv>, token: string): Promise<boolean> {
  return matchesAnyKey(token, routerKeysOf(loadConfig(c.env)));
}

/** The request's bearer token when it is one of the router's API keys (or the admin key); undefined otherwise. */
export async function routerKeyIn(c: Context<AppEnv>): Promise<string | undefined> {
  const token = bearerToken(c.req.header("Authorization"));
  if (!token) return undefined;
  return (await isRouterKey(c, token)) ? token : undefined;
}

/** Requires one of the router's API keys (or the admin key, which may do anything). */
export function requireRouterKey() {
  return createMiddleware<AppEnv>(async function requireRouterKey(c, next) {
    const token = bearerToken(c.req.header("Authorization"));
    if (!token) throw unauthorized("missing bearer token");
    if (!(await isRouterKey(c, token))) throw unauthorized("invalid API key");
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
