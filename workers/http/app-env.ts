import type { Env } from "../env";
import type { CachedKey } from "../gateway/key-cache";
import type { Caller } from "../../domain/sessions/caller";

/** Hono generics for this app: bindings, and what the gateway learns of a request as it goes. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    customerKey?: { raw: string; customerId: string; hash: string };
    /** That key's state, as the customer middleware found it (cached or from the Ledger), for admission. */
    customerAuth?: CachedKey;
    /** Who the request's authentication says it comes from: the namespace of its request ids. */
    caller?: Caller;
    /** The model alias and pool of a gateway request, for its error envelope. */
    gatewayRequest?: { model: string; pool?: string | undefined };
  };
};
