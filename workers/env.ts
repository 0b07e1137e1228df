import type { SessionObject } from "../durable-objects/session/session-object";
import type { MinerRegistry } from "../durable-objects/miner-registry";
import type { LedgerObject } from "../durable-objects/ledger";
import type { QuotaObject } from "../durable-objects/quota";
import type { A2ATaskStoreObject } from "../durable-objects/a2a-tasks";
import type { ChainIndexObject } from "../durable-objects/chain-index/chain-index-object";
import type { ChainAccountObject } from "../durable-objects/chain-account/chain-account-object";
import type { Vars } from "../domain/config/config";

/** The bindings declared in wrangler.toml. */
type Bindings = {
  SESSIONS: DurableObjectNamespace<SessionObject>;
  MINERS: DurableObjectNamespace<MinerRegistry>;
  PAYLOADS: R2Bucket;
  LEDGERS: DurableObjectNamespace<LedgerObject>;
  QUOTAS: DurableObjectNamespace<QuotaObject>;
  A2A_TASKS: DurableObjectNamespace<A2ATaskStoreObject>;
  CHAIN_INDEX: DurableObjectNamespace<ChainIndexObject>;
  CHAIN_ACCOUNTS: DurableObjectNamespace<ChainAccountObject>;
  /** The static assets ([assets] in wrangler.toml: static/, built by scripts/build-static.ts): /docs' Swagger UI, the console (workers/console/). */
  ASSETS: Fetcher;
};

/**
 * What the Worker is given: the bindings, and the vars and secrets the
 * configuration schema (domain/config/config.ts) reads, every one an
 * optional string.
 */
export type Env = Bindings & Vars;
