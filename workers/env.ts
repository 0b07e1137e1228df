import type { SessionObject } from "../durable-objects/session/session-object";
import type { MinerRegistry } from "../durable-objects/miner-registry";
import type { LedgerObject } from "../durable-objects/ledger";
import type { QuotaObject } from "../durable-objects/quota";
import type { A2ATaskStoreObject } from "../durable-objects/a2a-tasks";

/** Bindings and vars of the Worker, as declared in wrangler.toml plus secrets. */
export interface Env {
  SESSIONS: DurableObjectNamespace<SessionObject>;
  MINERS: DurableObjectNamespace<MinerRegistry>;
  PAYLOADS: R2Bucket;
  LEDGERS: DurableObjectNamespace<LedgerObject>;
  QUOTAS: DurableObjectNamespace<QuotaObject>;
  A2A_TASKS: DurableObjectNamespace<A2ATaskStoreObject>;
  GATEWAY_MODELS?: string;
  GATEWAY_POOLS?: string;
  GATEWAY_PRICES?: string;

  ENVIRONMENT?: string;
  ROUTER_NAME?: string;
  DEFAULT_SESSION_ID?: string;
  DEFAULT_TIMEOUT_S?: string;
  MAX_TIMEOUT_S?: string;
  MAX_BODY_BYTES?: string;
  CONSENSUS_SIMILARITY_THRESHOLD?: string;
  ALLOW_PRIVATE_MINER_URLS?: string;
  EMBEDDING_SOURCE?: string;
  PAYLOAD_BACKENDS?: string;
  PAYLOAD_WRITE_BACKEND?: string;
  MAX_PAYLOAD_BYTES?: string;
  PAYLOAD_RETENTION_S?: string;
  ROUTER_PUBLIC_URL?: string;
  WEB_FETCH_ENABLED?: string;
  WEB_FETCH_ALLOW_HOSTS?: string;
  WEB_FETCH_MAX_BYTES?: string;
  WEB_FETCH_TIMEOUT_MS?: string;
  WEB_FETCH_DOH_URL?: string;
  V3_SESSION_POOLS?: string;
  FACTCHECK_SESSION_ID?: string;
  FACTCHECK_STANDARD_SESSION_ID?: string;
  FACTCHECK_REALTIME_SESSION_ID?: string;
  SEARCH_PROVIDER_URL?: string;
  A2A_SESSION_ID?: string;
  X402_ROUTES?: string;
  X402_FACILITATOR_URL?: string;
  X402_NETWORK?: string;
  X402_PAY_TO?: string;
  X402_PRICES?: string;
  TRIAL_ROUTES?: string;
  TRIAL_SESSION_IDS?: string;
  TRIAL_WINDOW_S?: string;
  TRIAL_REQUESTS_PER_WINDOW?: string;
  TRIAL_DAILY_CAP?: string;
  TRIAL_MAX_TOKENS?: string;
  TRIAL_MAX_TIMEOUT_S?: string;
  TRIAL_MAX_REDUNDANCY?: string;
  EMBEDDING_URL?: string;
  EMBEDDING_MODEL?: string;

  // Secrets (wrangler secret put).
  ROUTER_API_KEYS?: string;
  ADMIN_API_KEY?: string;
  MINER_CREDENTIAL_KEY?: string;
  EMBEDDING_API_KEY?: string;
  PAYLOAD_MASTER_KEY?: string;
  SEARCH_PROVIDER_API_KEY?: string;
}
