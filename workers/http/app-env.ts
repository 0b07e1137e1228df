import type { Env } from "../env";

/** Hono generics for this app: bindings, and the customer key once the gateway has read it. */
export type AppEnv = {
  Bindings: Env;
  Variables: { customerKey?: { raw: string; customerId: string; hash: string } };
};
