import type { Env } from "../env";

/** Hono generics for this app: bindings, and what the gateway learns of a request as it goes. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    customerKey?: { raw: string; customerId: string; hash: string };
    /** The model alias and pool of a gateway request, for its error envelope. */
    gatewayRequest?: { model: string; pool?: string | undefined };
  };
};
