import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { routerKeyIn } from "../auth/bearer";
import { loadConfig } from "../../domain/config/config";
import { customerKeyFrom, keyAuthorization } from "../gateway/serve";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../../domain/errors";
import { namespace } from "../../domain/sessions/caller";

/**
 * Who reads the node's network views (peers, layers, proofs). The seed's
 * client holds one token for every call, so they take either key: a router
 * key (or the admin key) reads them whole, as the operator; a customer key
 * reads them without where the miners listen, and only the proofs of its own
 * tasks (those stored in its caller namespace, domain/sessions/caller.ts).
 */
export type NodeReader = { kind: "router" } | { kind: "customer"; namespace: string };

/** A router key, else a customer key its Ledger knows and has not revoked: the caller is set either way. */
export function routerOrCustomerKey() {
  return createMiddleware<AppEnv>(async function routerOrCustomerKey(c, next) {
    const token = await routerKeyIn(c);
    if (token) {
      c.set("caller", { kind: "key", id: token });
      return next();
    }
    const key = await customerKeyFrom(c.req.header("Authorization"), loadConfig(c.env).environment === "production");
    if (!key) throw new ApiError(401, "unauthorized", "missing or invalid key: a router key or a customer key", undefined, { "WWW-Authenticate": 'Bearer realm="router"' });
    c.set("customerAuth", await keyAuthorization(c, key));
    c.set("customerKey", key);
    c.set("caller", { kind: "customer", id: key.customerId });
    await next();
  });
}

export async function nodeReaderOf(c: Context<AppEnv>): Promise<NodeReader> {
  const caller = c.get("caller");
  if (caller?.kind === "key") return { kind: "router" };
  if (caller?.kind === "customer") return { kind: "customer", namespace: await namespace(caller) };
  throw new ApiError(401, "unauthorized", "the request carries no caller identity");
}
