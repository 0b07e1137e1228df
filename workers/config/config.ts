import { z } from "zod";
import type { Env } from "../env";

/** Documented dev token of the Cortensor router docs; accepted only outside production. */
export const DEV_ROUTER_TOKEN = "default-dev-token";
/** Dev-only admin key, same rule. */
export const DEV_ADMIN_TOKEN = "default-dev-admin-token";
/** Dev-only key for miner credential encryption, same rule. */
export const DEV_CREDENTIAL_KEY = "dev-only-miner-credential-key-do-not-use-in-production";
/** Documented gateway customer key of local dev; `npm run dev` accepts it, production never does. */
export const DEV_CUSTOMER_ID = "dev";
export const DEV_CUSTOMER_KEY = "csk_dev_cortensor-dev-customer-key-local-only";
/** Dev-only master secret for payload keys and assignment tokens, same rule. */
export const DEV_PAYLOAD_MASTER_KEY = "dev-only-payload-master-key-do-not-use-in-production";

const flag = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((v) => v === "true" || v === "1");
const seconds = (fallback: number) =>
  z.coerce.number().positive().max(3600).optional().default(fallback);
const csv = z
  .string()
  .optional()
  .transform((v) => (v ?? "").split(",").map((s) => s.trim()).filter(Boolean));

const optionalId = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) {
      ctx.addIssue({ code: "custom", message: "must be a non-negative integer" });
      return z.NEVER;
    }
    return n;
  });

const EnvSchema = z.object({
  ENVIRONMENT: z.enum(["production", "development", "test"]).default("production"),
  ROUTER_NAME: z.string().default("cortensor-edge-router"),
  DEFAULT_SESSION_ID: optionalId,
  DEFAULT_TIMEOUT_S: seconds(60),
  MAX_TIMEOUT_S: seconds(600),
  MAX_BODY_BYTES: z.coerce.number().int().positive().optional().default(1_048_576),
  CONSENSUS_SIMILARITY_THRESHOLD: z.coerce.number().min(0).max(1).optional().default(0.9),
  ALLOW_PRIVATE_MINER_URLS: flag,
  MAX_PAYLOAD_BYTES: z.coerce.number().int().positive().optional().default(262_144),
  PAYLOAD_RETENTION_S: z.coerce.number().int().positive().optional().default(7 * 24 * 3600),
  PAYLOAD_WRITE_BACKEND: z.coerce.number().int().min(0).optional().default(0),
  ROUTER_PUBLIC_URL: z.string().url().optional().or(z.literal("").transform(() => undefined)),
  PAYLOAD_MASTER_KEY: z.string().optional(),
  WEB_FETCH_ENABLED: flag,
  WEB_FETCH_ALLOW_HOSTS: csv,
  WEB_FETCH_MAX_BYTES: z.coerce.number().int().positive().optional().default(1_048_576),
  WEB_FETCH_TIMEOUT_MS: z.coerce.number().int().positive().max(60_000).optional().default(10_000),
  WEB_FETCH_DOH_URL: z.string().url().optional().or(z.literal("").transform(() => undefined)),
  V3_SESSION_POOLS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v?.trim()) return {} as Record<string, number>;
      try {
        return z.partialRecord(z.enum(["1", "3", "5"]), z.number().int().min(0)).parse(JSON.parse(v));
      } catch {
        ctx.addIssue({ code: "custom", message: 'must be JSON like {"1": 70, "3": 71, "5": 72}' });
        return z.NEVER;
      }
    }),
  FACTCHECK_SESSION_ID: optionalId,
  FACTCHECK_STANDARD_SESSION_ID: optionalId,
  FACTCHECK_REALTIME_SESSION_ID: optionalId,
  SEARCH_PROVIDER_URL: z.string().url().optional().or(z.literal("").transform(() => undefined)),
  SEARCH_PROVIDER_API_KEY: z.string().optional(),
  A2A_SESSION_ID: optionalId,
  X402_ROUTES: csv,
  X402_FACILITATOR_URL: z.string().url().optional().or(z.literal("").transform(() => undefined)),
  X402_NETWORK: z.string().regex(/^[a-z0-9-]+:[A-Za-z0-9-]+$/).default("eip155:84532"),
  X402_PAY_TO: z.string().regex(/^0x[0-9a-fA-F]{40}$/).optional().or(z.literal("").transform(() => undefined)),
  X402_PRICES: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const fallback = { ping: "$0.001", completions: "$0.01", delegate: "$0.02", validate: "$0.02", factcheck: "$0.02" };
      if (!v?.trim()) return fallback;
      try {
        return { ...fallback, ...z.partialRecord(z.enum(["ping", "completions", "delegate", "validate", "factcheck"]), z.string().regex(/^\$\d+(\.\d+)?$/)).parse(JSON.parse(v)) };
      } catch {
        ctx.addIssue({ code: "custom", message: 'must be JSON like {"completions": "$0.01"}' });
        return z.NEVER;
      }
    }),
  TRIAL_ROUTES: csv,
  TRIAL_SESSION_IDS: csv,
  TRIAL_WINDOW_S: z.coerce.number().int().positive().optional().default(900),
  TRIAL_REQUESTS_PER_WINDOW: z.coerce.number().int().positive().optional().default(1),
  TRIAL_DAILY_CAP: z.coerce.number().int().positive().optional().default(1000),
  TRIAL_MAX_TOKENS: z.coerce.number().int().positive().optional().default(256),
  TRIAL_MAX_TIMEOUT_S: z.coerce.number().positive().optional().default(60),
  TRIAL_MAX_REDUNDANCY: z.coerce.number().int().min(1).max(5).optional().default(1),
  EMBEDDING_SOURCE: z.enum(["lexical", "openai"]).default("lexical"),
  EMBEDDING_URL: z.string().url().optional().or(z.literal("").transform(() => undefined)),
  EMBEDDING_MODEL: z.string().default("text-embedding-3-small"),
  EMBEDDING_API_KEY: z.string().optional(),
  ROUTER_API_KEYS: csv,
  ADMIN_API_KEY: z.string().optional(),
  MINER_CREDENTIAL_KEY: z.string().optional(),
});

export type RouterConfig = {
  environment: "production" | "development" | "test";
  routerName: string;
  defaultSessionId: number | undefined;
  defaultTimeoutS: number;
  maxTimeoutS: number;
  maxBodyBytes: number;
  similarityThreshold: number;
  /** Where consensus gets embeddings: built-in lexical, or an OpenAI-compatible /v1/embeddings. */
  embedding: { source: "lexical" } | { source: "openai"; url: string; model: string; apiKey?: string };
  allowPrivateMinerUrls: boolean;
  maxPayloadBytes: number;
  payloadRetentionS: number;
  payloadWriteBackend: number;
  /** Base URL miners use to reach this router; defaults to the request's origin. */
  publicUrl: string | undefined;
  payloadMasterKey: string;
  webFetch: { enabled: boolean; allowHosts: string[]; maxBytes: number; timeoutMs: number; dohUrl: string | undefined };
  /** v3 replica tier → session id. */
  v3Pools: Partial<Record<"1" | "3" | "5", number>>;
  factcheckSessions: { any: number | undefined; standard: number | undefined; realtime: number | undefined };
  search: { url: string; apiKey?: string } | undefined;
  a2aSessionId: number | undefined;
  x402: {
    routes: Set<string>;
    facilitatorUrl: string | undefined;
    network: string;
    payTo: string | undefined;
    prices: Record<"ping" | "completions" | "delegate" | "validate" | "factcheck", string>;
  };
  trial: {
    routes: Set<string>;
    sessionIds: number[];
    windowS: number;
    requestsPerWindow: number;
    dailyCap: number;
    maxTokens: number;
    maxTimeoutS: number;
    maxRedundancy: number;
  };
  routerKeys: string[];
  adminKey: string;
  credentialKey: string;
  /** Why this configuration must not serve; empty when it may. */
  problems: string[];
};

const cache = new WeakMap<object, RouterConfig>();

/**
 * Reads and checks the configuration once per env object. A production
 * configuration that would accept a dev-only credential, or lacks a secret,
 * comes back with `problems`, and the app then refuses every request.
 */
export function loadConfig(env: Env): RouterConfig {
  const hit = cache.get(env);
  if (hit) return hit;
  const config = buildConfig(env);
  cache.set(env, config);
  return config;
}

function buildConfig(env: Env): RouterConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    return {
      ...fallbackConfig(),
      problems: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
    };
  }
  const e = parsed.data;
  const production = e.ENVIRONMENT === "production";
  const problems: string[] = [];

  let routerKeys = e.ROUTER_API_KEYS;
  let adminKey = e.ADMIN_API_KEY ?? "";
  let credentialKey = e.MINER_CREDENTIAL_KEY ?? "";
  let payloadMasterKey = e.PAYLOAD_MASTER_KEY ?? "";
  if (e.X402_ROUTES.length > 0 && (!e.X402_FACILITATOR_URL || !e.X402_PAY_TO)) problems.push("X402_ROUTES are enabled but X402_FACILITATOR_URL or X402_PAY_TO is not set");
  if (e.EMBEDDING_SOURCE === "openai" && !e.EMBEDDING_URL) problems.push("EMBEDDING_SOURCE is openai but EMBEDDING_URL is not set");
  if (production) {
    if (routerKeys.length === 0) problems.push("ROUTER_API_KEYS secret is not set");
    if (routerKeys.includes(DEV_ROUTER_TOKEN)) problems.push("ROUTER_API_KEYS contains the dev token");
    if (!adminKey) problems.push("ADMIN_API_KEY secret is not set");
    if (adminKey === DEV_ADMIN_TOKEN || adminKey === DEV_ROUTER_TOKEN) problems.push("ADMIN_API_KEY is a dev token");
    if (credentialKey.length < 32) problems.push("MINER_CREDENTIAL_KEY secret is missing or shorter than 32 characters");
    if (credentialKey === DEV_CREDENTIAL_KEY) problems.push("MINER_CREDENTIAL_KEY is the dev key");
    if (payloadMasterKey.length < 32) problems.push("PAYLOAD_MASTER_KEY secret is missing or shorter than 32 characters");
    if (payloadMasterKey === DEV_PAYLOAD_MASTER_KEY) problems.push("PAYLOAD_MASTER_KEY is the dev key");
    if (e.WEB_FETCH_ALLOW_HOSTS.length > 0) problems.push("WEB_FETCH_ALLOW_HOSTS must not be set in production");
    if (e.ALLOW_PRIVATE_MINER_URLS) problems.push("ALLOW_PRIVATE_MINER_URLS must not be set in production");
  } else {
    if (routerKeys.length === 0) routerKeys = [DEV_ROUTER_TOKEN];
    adminKey ||= DEV_ADMIN_TOKEN;
    credentialKey ||= DEV_CREDENTIAL_KEY;
    payloadMasterKey ||= DEV_PAYLOAD_MASTER_KEY;
  }

  return {
    environment: e.ENVIRONMENT,
    routerName: e.ROUTER_NAME,
    defaultSessionId: e.DEFAULT_SESSION_ID,
    defaultTimeoutS: e.DEFAULT_TIMEOUT_S,
    maxTimeoutS: e.MAX_TIMEOUT_S,
    maxBodyBytes: e.MAX_BODY_BYTES,
    similarityThreshold: e.CONSENSUS_SIMILARITY_THRESHOLD,
    embedding:
      e.EMBEDDING_SOURCE === "openai" && e.EMBEDDING_URL
        ? { source: "openai", url: e.EMBEDDING_URL, model: e.EMBEDDING_MODEL, ...(e.EMBEDDING_API_KEY ? { apiKey: e.EMBEDDING_API_KEY } : {}) }
        : { source: "lexical" },
    // Dev miners listen on loopback; in production a miner URL must be public.
    allowPrivateMinerUrls: !production || e.ALLOW_PRIVATE_MINER_URLS,
    maxPayloadBytes: e.MAX_PAYLOAD_BYTES,
    payloadRetentionS: e.PAYLOAD_RETENTION_S,
    payloadWriteBackend: e.PAYLOAD_WRITE_BACKEND,
    publicUrl: e.ROUTER_PUBLIC_URL,
    payloadMasterKey,
    webFetch: {
      enabled: e.WEB_FETCH_ENABLED,
      allowHosts: production ? [] : e.WEB_FETCH_ALLOW_HOSTS,
      maxBytes: e.WEB_FETCH_MAX_BYTES,
      timeoutMs: e.WEB_FETCH_TIMEOUT_MS,
      // In production host names are resolved (DoH) and refused when private; locally there is no outside DNS.
      dohUrl: e.WEB_FETCH_DOH_URL ?? (production ? "https://cloudflare-dns.com/dns-query" : undefined),
    },
    v3Pools: e.V3_SESSION_POOLS,
    factcheckSessions: { any: e.FACTCHECK_SESSION_ID, standard: e.FACTCHECK_STANDARD_SESSION_ID, realtime: e.FACTCHECK_REALTIME_SESSION_ID },
    a2aSessionId: e.A2A_SESSION_ID,
    x402: { routes: new Set(e.X402_ROUTES), facilitatorUrl: e.X402_FACILITATOR_URL, network: e.X402_NETWORK, payTo: e.X402_PAY_TO, prices: e.X402_PRICES },
    trial: {
      routes: new Set(e.TRIAL_ROUTES),
      sessionIds: e.TRIAL_SESSION_IDS.map(Number).filter((n) => Number.isSafeInteger(n) && n >= 0),
      windowS: e.TRIAL_WINDOW_S,
      requestsPerWindow: e.TRIAL_REQUESTS_PER_WINDOW,
      dailyCap: e.TRIAL_DAILY_CAP,
      maxTokens: e.TRIAL_MAX_TOKENS,
      maxTimeoutS: e.TRIAL_MAX_TIMEOUT_S,
      maxRedundancy: e.TRIAL_MAX_REDUNDANCY,
    },
    search: e.SEARCH_PROVIDER_URL ? { url: e.SEARCH_PROVIDER_URL, ...(e.SEARCH_PROVIDER_API_KEY ? { apiKey: e.SEARCH_PROVIDER_API_KEY } : {}) } : undefined,
    routerKeys,
    adminKey,
    credentialKey,
    problems,
  };
}

function fallbackConfig(): Omit<RouterConfig, "problems"> {
  return {
    environment: "production",
    routerName: "cortensor-edge-router",
    defaultSessionId: undefined,
    defaultTimeoutS: 60,
    maxTimeoutS: 600,
    maxBodyBytes: 1_048_576,
    similarityThreshold: 0.9,
    embedding: { source: "lexical" },
    allowPrivateMinerUrls: false,
    maxPayloadBytes: 262_144,
    payloadRetentionS: 7 * 24 * 3600,
    payloadWriteBackend: 0,
    publicUrl: undefined,
    payloadMasterKey: "",
    webFetch: { enabled: false, allowHosts: [], maxBytes: 1_048_576, timeoutMs: 10_000, dohUrl: undefined },
    v3Pools: {},
    factcheckSessions: { any: undefined, standard: undefined, realtime: undefined },
    search: undefined,
    a2aSessionId: undefined,
    x402: { routes: new Set(), facilitatorUrl: undefined, network: "eip155:84532", payTo: undefined, prices: { ping: "$0.001", completions: "$0.01", delegate: "$0.02", validate: "$0.02", factcheck: "$0.02" } },
    trial: { routes: new Set(), sessionIds: [], windowS: 900, requestsPerWindow: 1, dailyCap: 1000, maxTokens: 256, maxTimeoutS: 60, maxRedundancy: 1 },
    routerKeys: [],
    adminKey: "",
    credentialKey: "",
  };
}
