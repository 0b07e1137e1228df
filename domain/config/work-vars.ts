import { z } from "zod";
import { flag, id, json, list, optionalId, parsed, positiveInt, type SectionContext, secret, seconds, url, type VarsOf } from "./var-readers.ts";

const usd = z.string().regex(/^\$\d+(\.\d+)?$/, 'must be a dollar price like "$0.01"');
/** X402_PRICES: a price per paid family; a family it leaves out keeps its default. */
const X402PricesSchema = z
  .strictObject({
    ping: usd.default("$0.001"),
    completions: usd.default("$0.01"),
    delegate: usd.default("$0.02"),
    validate: usd.default("$0.02"),
    factcheck: usd.default("$0.02"),
  })
  .prefault({});

const X402_FAMILIES = ["ping", "completions", "delegate", "validate", "factcheck", "all"] as const;
const TRIAL_FAMILIES = ["completions", "delegate", "validate", "factcheck", "all"] as const;

/**
 * The work routes: web fetch, the v3 session pools, factcheck, search, A2A, x402 payments,
 * the keyless trial, and the NeuroShard node surface.
 */
export const workVars = {
  WEB_FETCH_ENABLED: flag,
  WEB_FETCH_ALLOW_HOSTS: list,
  WEB_FETCH_MAX_BYTES: positiveInt(1_048_576),
  WEB_FETCH_TIMEOUT_MS: parsed(z.coerce.number<string>().int().positive().max(60_000).default(10_000)),
  WEB_FETCH_DOH_URL: url,
  V3_SESSION_POOLS: json(z.partialRecord(z.enum(["1", "3", "5"]), z.number().int().min(0)).default({}), '{"1": 70, "3": 71, "5": 72}'),
  FACTCHECK_SESSION_ID: optionalId,
  FACTCHECK_STANDARD_SESSION_ID: optionalId,
  FACTCHECK_REALTIME_SESSION_ID: optionalId,
  SEARCH_PROVIDER_URL: url,
  A2A_SESSION_ID: optionalId,
  X402_ROUTES: list.pipe(z.array(z.enum(X402_FAMILIES))),
  X402_FACILITATOR_URL: url,
  X402_NETWORK: parsed(
    z
      .string()
      .regex(/^[a-z0-9-]+:[A-Za-z0-9-]+$/, "must be a CAIP-2 network like eip155:84532")
      .pipe(z.templateLiteral([z.string(), ":", z.string()]))
      .default("eip155:84532"),
  ),
  X402_PAY_TO: parsed(
    z
      .string()
      .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address")
      .optional(),
  ),
  X402_PRICES: json(X402PricesSchema, '{"completions": "$0.01"}'),
  TRIAL_ROUTES: list.pipe(z.array(z.enum(TRIAL_FAMILIES))),
  TRIAL_SESSION_IDS: list.pipe(z.array(id)),
  TRIAL_WINDOW_S: positiveInt(900),
  TRIAL_REQUESTS_PER_WINDOW: positiveInt(1),
  TRIAL_DAILY_CAP: positiveInt(1000),
  TRIAL_MAX_TOKENS: positiveInt(256),
  TRIAL_MAX_TIMEOUT_S: seconds(60),
  TRIAL_MAX_REDUNDANCY: parsed(z.coerce.number<string>().int().min(1).max(5).default(1)),
  /** The gateway model alias (GATEWAY_MODELS) the NeuroShard node surface's inference runs on: its session, pool and price. */
  NEUROSHARD_MODEL: parsed(z.string().min(1).max(64).default("default")),
  // Secret (`wrangler secret put`).
  SEARCH_PROVIDER_API_KEY: secret,
};

export function workSection(e: VarsOf<typeof workVars>, { production, problems }: SectionContext) {
  if (e.X402_ROUTES.length > 0 && (!e.X402_FACILITATOR_URL || !e.X402_PAY_TO)) problems.push("X402_ROUTES are enabled but X402_FACILITATOR_URL or X402_PAY_TO is not set");
  if (production && e.WEB_FETCH_ALLOW_HOSTS.length > 0) problems.push("WEB_FETCH_ALLOW_HOSTS must not be set in production");
  return {
    webFetch: {
      enabled: e.WEB_FETCH_ENABLED,
      allowHosts: production ? [] : e.WEB_FETCH_ALLOW_HOSTS,
      maxBytes: e.WEB_FETCH_MAX_BYTES,
      timeoutMs: e.WEB_FETCH_TIMEOUT_MS,
      // Host names are resolved (DoH) and refused when private or unresolved. Production resolves
      // through Cloudflare by default; elsewhere, with no WEB_FETCH_DOH_URL, names are refused
      // (only IP literals and WEB_FETCH_ALLOW_HOSTS are fetched).
      dohUrl: e.WEB_FETCH_DOH_URL ?? (production ? "https://cloudflare-dns.com/dns-query" : undefined),
    },
    /** v3 replica tier → session id. */
    v3Pools: e.V3_SESSION_POOLS,
    factcheckSessions: { any: e.FACTCHECK_SESSION_ID, standard: e.FACTCHECK_STANDARD_SESSION_ID, realtime: e.FACTCHECK_REALTIME_SESSION_ID },
    search: e.SEARCH_PROVIDER_URL ? { url: e.SEARCH_PROVIDER_URL, ...(e.SEARCH_PROVIDER_API_KEY ? { apiKey: e.SEARCH_PROVIDER_API_KEY } : {}) } : undefined,
    a2aSessionId: e.A2A_SESSION_ID,
    x402: {
      routes: new Set<string>(e.X402_ROUTES),
      facilitatorUrl: e.X402_FACILITATOR_URL,
      network: e.X402_NETWORK,
      payTo: e.X402_PAY_TO,
      prices: e.X402_PRICES,
    },
    trial: {
      routes: new Set<string>(e.TRIAL_ROUTES),
      sessionIds: e.TRIAL_SESSION_IDS,
      windowS: e.TRIAL_WINDOW_S,
      requestsPerWindow: e.TRIAL_REQUESTS_PER_WINDOW,
      dailyCap: e.TRIAL_DAILY_CAP,
      maxTokens: e.TRIAL_MAX_TOKENS,
      maxTimeoutS: e.TRIAL_MAX_TIMEOUT_S,
      maxRedundancy: e.TRIAL_MAX_REDUNDANCY,
    },
    /** The NeuroShard node surface (workers/neuroshard/). */
    neuroshard: { model: e.NEUROSHARD_MODEL },
  };
}
