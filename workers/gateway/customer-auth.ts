import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { loadConfig } from "../../domain/config/config";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../../domain/errors";
import { customerKeyFrom, keyAuthorization } from "./serve";

/**
 * Route middleware of the customer routes (/v1/*, /openai/v1/*): the key must
 * be one the customer's Ledger knows and has not revoked (as of the key's
 * cached state, see key-cache.ts). As middleware it runs before the route's
 * validators, so a caller without a valid key learns nothing of the input
 * schema. The key's state is kept for admission, which checks the model and
 * the spend against it once the request is read, without asking again.
 */
export function requireCustomerKey() {
  return createMiddleware<AppEnv>(async function requireCustomerKey(c, next) {
    const key = await customerKeyFrom(c.req.header("Authorization"), loadConfig(c.env).environment === "production");
    if (!key) throw new ApiError(401, "invalid_api_key", "missing or malformed customer API key", undefined, { "WWW-Authenticate": 'Bearer realm="gateway"' });
    c.set("customerAuth", await keyAuthorization(c, key));
    c.set("customerKey", key);
    await next();
  });
}

/** The key `requireCustomerKey` authenticated (a route without that middleware has none: 401). */
export function customerKeyOf(c: Context<AppEnv>) {
  const key = c.get("customerKey");
  if (!key) throw new ApiError(401, "invalid_api_key", "missing customer API key");
  return key;
}
