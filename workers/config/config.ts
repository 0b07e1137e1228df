import { z } from "zod";
import type { Env } from "../env";
import { MIN_TIMEOUT_S } from "../schemas/timeouts";
import {
  DEV_ROUTER_TOKEN,
  DEV_ADMIN_TOKEN,
  DEV_CREDENTIAL_KEY,
  DEV_CUSTOMER_ID,
  DEV_CUSTOMER_KEY,
  DEV_PAYLOAD_MASTER_KEY,
  DEV_ROUTER_SIGNER_KEY,
  DEV_CHAIN_KEYS,
} from "./dev-credentials";

export { DEV_ROUTER_TOKEN, DEV_ADMIN_TOKEN, DEV_CREDENTIAL_KEY, DEV_CUSTOMER_ID, DEV_CUSTOMER_KEY, DEV_PAYLOAD_MASTER_KEY, DEV_ROUTER_SIGNER_KEY };

// ---------------------------------------------------------------------------
// How a var is read. Workers gives every var as a string, or not at all; an
// unset var and "" both mean "the default", so an operator can blank a var
// in the dashboard instead of deleting it.
// ---------------------------------------------------------------------------

const blank = z
  .string()
  .optional()
  .transform((v) => v?.trim() || undefined);

/** A var whose text `schema` reads; unset or "" reaches `schema` as undefined (its default, if it has one). */
const parsed = <T extends z.ZodType<unknown, string | undefined>>(schema: T) => blank.pipe(schema);

const ID_MESSAGE = "must be a non-negative integer";
const id = z.coerce.number<string>({ error: ID_MESSAGE }).int(ID_MESSAGE).min(0, ID_MESSAGE).max(Number.MAX_SAFE_INTEGER, ID_MESSAGE);
const optionalId = parsed(id.optional());
/** A task timeout: never below the minimum every request is held to (a lower default or cap would refuse every request). */
const seconds = (fallback: number) => parsed(z.coerce.number<string>().min(MIN_TIMEOUT_S, `must be at least ${MIN_TIMEOUT_S}`).max(3600).default(fallback));
/** The emission pool's daily budget outside production when MINER_EMISSION_BUDGET_MICROS is unset: 100 units. */
const DEV_EMISSION_BUDGET_MICROS = 100_000_000;
const positiveInt = (fallback: number) => parsed(z.coerce.number<string>().int().positive().default(fallback));
const url = parsed(z.url().optional());
const flag = parsed(
  z
    .enum(["true", "false", "1", "0"])
    .optional()
    .transform((v) => v === "true" || v === "1"),
);
const list = blank.transform((v) =>
  (v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);
/** A secret: kept as it was set (no trimming); unset is "". */
const secret = z.string().default("");

/** A JSON var: unset or "" gives `schema`'s default; text that is not JSON is a problem, like JSON `schema` refuses. */
const json = <T extends z.ZodType>(schema: T, example: string) =>
  blank
    .transform((v, ctx) => {
      if (v === undefined) return undefined;
      try {
        const value: unknown = JSON.parse(v);
        return value;
      } catch {
        ctx.addIssue({ code: "custom", message: `must be JSON like ${example}` });
        return z.NEVER;
      }
    })
    .pipe(schema);

// ---------------------------------------------------------------------------
// The JSON vars' shapes.
// ---------------------------------------------------------------------------

const BINDING_NAME = /^[A-Z][A-Z0-9_]*$/;

/**
 * PAYLOAD_BACKENDS: the R2 buckets payloads may live in. `index` is the URN's
 * backend_index, `binding` the R2 binding in wrangler.toml.
 */
const PayloadBackendsSchema = z
  .array(z.object({ index: z.number().int().min(0).max(999), binding: z.string().regex(BINDING_NAME), bucket: z.string().min(3).max(63) }))
  .min(1)
  .refine((list) => new Set(list.map((b) => b.index)).size === list.length, "backend indexes must be unique")
  .default([{ index: 0, binding: "PAYLOADS", bucket: "cortensor-payloads" }]);

/** GATEWAY_MODELS: model alias → router pool and session. */
const GatewayModelsSchema = z
  .record(z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/), z.object({ pool: z.string().min(1), session_id: z.number().int().min(0) }))
  .default({ default: { pool: "local", session_id: 0 } });

/**
 * GATEWAY_POOLS: local = this deployment, in-process; remote = routers
 * speaking the v3 API, each router's bearer key in the secret `key_secret` names.
 */
const GatewayPoolsSchema = z
  .record(
    z.string().min(1),
    z.discriminatedUnion("type", [
      z.object({ type: z.literal("local") }),
      z.object({
        type: z.literal("remote"),
        routers: z.array(z.object({ url: z.url(), key_secret: z.string().regex(BINDING_NAME) })).min(1),
        timeout_s: z.number().positive().max(900).default(300),
      }),
    ]),
  )
  .default({ local: { type: "local" } });

const PriceSchema = z.object({ prompt_per_1k_micros: z.number().int().min(0), completion_per_1k_micros: z.number().int().min(0) });
/** GATEWAY_PRICES: model alias (or "*") → millionths of a dollar per 1k tokens. */
const GatewayPricesSchema = z.record(z.string(), PriceSchema).default({ "*": { prompt_per_1k_micros: 100, completion_per_1k_micros: 200 } });

/** WALLET_STAKE_MULTIPLIERS: lock days → selection-weight multiplier (at least 1, at most 4 decimals). */
const StakeMultipliersSchema = z
  .record(
    z.string().regex(/^[1-9]\d{0,3}$/, "keys are lock durations in whole days, 1-9999"),
    z
      .number()
      .min(1)
      .max(100)
      .refine((m) => Math.abs(m * 10_000 - Math.round(m * 10_000)) < 1e-6, "at most 4 decimals"),
  )
  .refine((table) => Object.keys(table).length > 0, "needs at least one duration")
  .default({ "7": 1.1, "30": 1.5, "90": 2, "365": 3 });

/** A stake tier: from `days` of lock, the multiplier in basis points (1.5 → 15000), so that storage holds integers. */
export type StakeTier = { days: number; multiplierBps: number };
const stakeTiersFrom = (table: Record<string, number>): StakeTier[] =>
  Object.entries(table)
    .map(([days, m]) => ({ days: Number(days), multiplierBps: Math.round(m * 10_000) }))
    .sort((a, b) => b.days - a.days);

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

/**
 * The chain indexer's vars, read apart from the rest: a chain that is not
 * configured, or configured wrongly, is shown in the chain status and never
 * refuses the router's other routes. Addresses are checksummed or
 * lower-case 20-byte hex.
 */
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address");
const blockNumber = (fallback: number) => parsed(z.coerce.number<string>({ error: "must be a block number" }).int().min(0).max(Number.MAX_SAFE_INTEGER).default(fallback));
const ChainVarsSchema = z.object({
  CHAIN_RPC_URL: parsed(z.url({ protocol: /^https?$/, error: "must be an http(s) JSON-RPC URL" }).optional()),
  CHAIN_ID: parsed(z.coerce.number<string>({ error: "must be a chain id" }).int().positive().optional()),
  CHAIN_SESSION_ADDRESS: parsed(address.optional()),
  CHAIN_QUEUE_ADDRESS: parsed(address.optional()),
  /** The first block to index (the contracts' deployment block). */
  CHAIN_START_BLOCK: blockNumber(0),
  /** Blocks a log must be under the head before it is indexed. */
  CHAIN_CONFIRMATIONS: parsed(z.coerce.number<string>().int().min(0).max(1000).default(12)),
  /** How many indexed blocks (below the cursor) keep their hashes for reorg detection; a deeper reorg stops the index. */
  CHAIN_REORG_WINDOW: parsed(z.coerce.number<string>().int().min(1).max(10_000).default(128)),
  /** The widest eth_getLogs block range asked for; it shrinks when the provider refuses a range, and grows back. */
  CHAIN_MAX_BLOCK_RANGE: parsed(z.coerce.number<string>().int().min(1).max(100_000).default(2000)),
  /**
   * JSON-RPC calls one tick may make (Workers' subrequest limit is 50 on the free plan). At least
   * 6: chain id, head, reorg check, logs, the range's last block, and one view call.
   */
  CHAIN_MAX_CALLS_PER_TICK: parsed(z.coerce.number<string>().int().min(6).max(900).default(40)),
  CHAIN_RPC_TIMEOUT_MS: parsed(z.coerce.number<string>().int().min(100).max(60_000).default(10_000)),
  /** Hybrid sessions this router serves: on-chain session id → the edge session its tasks run on. */
  /** Record hybrid tasks' outcomes on the queue contract, signed with the secret CHAIN_SIGNER_KEY. */
  CHAIN_WRITEBACK: flag,
  CHAIN_HYBRID_SESSIONS: json(z.record(z.string().regex(/^\d{1,15}$/, "keys must be on-chain session ids"), z.number().int().min(0)).default({}), '{"0": 5}'),
});
export type ChainTarget = {
  rpcUrl: string;
  chainId: number;
  sessionAddress: `0x${string}`;
  queueAddress: `0x${string}`;
  startBlock: number;
  confirmations: number;
  reorgWindow: number;
  maxBlockRange: number;
  maxCallsPerTick: number;
  rpcTimeoutMs: number;
  /** On-chain session id (decimal) → edge session id, for the hybrid sessions this router serves. */
  hybridSessions: Record<string, number>;
  /** Write hybrid outcomes back to the queue contract (the key is not part of the target: targets are stored). */
  writeback: boolean;
};
/** Not configured (no CHAIN_RPC_URL), configured, or configured wrongly (`problems` name the vars). */
export type ChainConfig =
  | { state: "unconfigured" }
  | { state: "configured"; target: ChainTarget; signerKey: `0x${string}` | null }
  | { state: "misconfigured"; problems: string[] };

const SIGNER_KEY = /^0x[0-9a-fA-F]{64}$/;

/** The router's chain key (secret CHAIN_SIGNER_KEY), if it is set and well-formed. */
export function chainSignerKey(env: { CHAIN_SIGNER_KEY?: string | undefined }): `0x${string}` | null {
  const key = env.CHAIN_SIGNER_KEY?.trim() ?? "";
  return SIGNER_KEY.test(key) ? (key as `0x${string}`) : null;
}

function chainConfigFrom(vars: Record<string, unknown>): ChainConfig {
  const parsedVars = ChainVarsSchema.safeParse(vars);
  if (!parsedVars.success) return { state: "misconfigured", problems: parsedVars.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) };
  const v = parsedVars.data;
  if (!v.CHAIN_RPC_URL) return { state: "unconfigured" };
  const missing = (["CHAIN_ID", "CHAIN_SESSION_ADDRESS", "CHAIN_QUEUE_ADDRESS"] as const).filter((name) => v[name] === undefined);
  if (missing.length > 0 || !v.CHAIN_ID || !v.CHAIN_SESSION_ADDRESS || !v.CHAIN_QUEUE_ADDRESS) {
    return { state: "misconfigured", problems: missing.map((name) => `${name}: must be set when CHAIN_RPC_URL is`) };
  }
  const key = typeof vars.CHAIN_SIGNER_KEY === "string" ? vars.CHAIN_SIGNER_KEY.trim() : "";
  if (v.CHAIN_WRITEBACK && !SIGNER_KEY.test(key)) {
    return { state: "misconfigured", problems: ["CHAIN_SIGNER_KEY: CHAIN_WRITEBACK is on, so the secret must be set to a 0x-prefixed 32-byte hex private key"] };
  }
  const production = (vars.ENVIRONMENT ?? "production") === "production" || vars.ENVIRONMENT === "";
  if (v.CHAIN_WRITEBACK && production && DEV_CHAIN_KEYS.includes(key.toLowerCase())) {
    return { state: "misconfigured", problems: ["CHAIN_SIGNER_KEY: a public dev-chain key (anyone holds it), refused in production"] };
  }
  return {
    state: "configured",
    target: {
      rpcUrl: v.CHAIN_RPC_URL,
      chainId: v.CHAIN_ID,
      sessionAddress: v.CHAIN_SESSION_ADDRESS.toLowerCase() as `0x${string}`,
      queueAddress: v.CHAIN_QUEUE_ADDRESS.toLowerCase() as `0x${string}`,
      startBlock: v.CHAIN_START_BLOCK,
      confirmations: v.CHAIN_CONFIRMATIONS,
      reorgWindow: v.CHAIN_REORG_WINDOW,
      maxBlockRange: v.CHAIN_MAX_BLOCK_RANGE,
      maxCallsPerTick: v.CHAIN_MAX_CALLS_PER_TICK,
      rpcTimeoutMs: v.CHAIN_RPC_TIMEOUT_MS,
      hybridSessions: v.CHAIN_HYBRID_SESSIONS,
      writeback: v.CHAIN_WRITEBACK,
    },
    signerKey: v.CHAIN_WRITEBACK ? (key as `0x${string}`) : null,
  };
}

const X402_FAMILIES = ["ping", "completions", "delegate", "validate", "factcheck", "all"] as const;
const TRIAL_FAMILIES = ["completions", "delegate", "validate", "factcheck", "all"] as const;

// ---------------------------------------------------------------------------
// Every var the router reads, with its default. wrangler.toml [vars] lists the
// ones an operator commonly sets; the defaults live here alone.
// ---------------------------------------------------------------------------

const VarsShape = {
  /** "production" refuses to serve with dev-only credentials or missing secrets. */
  ENVIRONMENT: parsed(z.enum(["production", "development", "test"]).default("production")),
  ROUTER_NAME: parsed(z.string().default("cortensor-edge-router")),
  DEFAULT_SESSION_ID: optionalId,
  DEFAULT_TIMEOUT_S: seconds(60),
  MAX_TIMEOUT_S: seconds(600),
  MAX_BODY_BYTES: positiveInt(1_048_576),
  CONSENSUS_SIMILARITY_THRESHOLD: parsed(z.coerce.number<string>().min(0).max(1).default(0.9)),
  ALLOW_PRIVATE_MINER_URLS: flag,
  /** Count this isolate's calls to each Durable Object (GET /api/v1/admin/object-traffic; the bench's busiest object). */
  OBJECT_TRAFFIC_METER: flag,
  EMBEDDING_SOURCE: parsed(z.enum(["lexical", "openai"]).default("lexical")),
  EMBEDDING_URL: url,
  EMBEDDING_MODEL: parsed(z.string().default("text-embedding-3-small")),
  PAYLOAD_BACKENDS: json(PayloadBackendsSchema, '[{"index": 0, "binding": "PAYLOADS", "bucket": "cortensor-payloads"}]'),
  PAYLOAD_WRITE_BACKEND: parsed(z.coerce.number<string>().int().min(0).default(0)),
  MAX_PAYLOAD_BYTES: positiveInt(262_144),
  PAYLOAD_RETENTION_S: positiveInt(7 * 24 * 3600),
  ROUTER_PUBLIC_URL: url,
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
  /**
   * The wallet (workers/wallet/): the stake multiplier by lock duration, `{"<days>": multiplier}` (a stake
   * of d days earns the multiplier of the longest listed duration up to d; shorter than the shortest is
   * refused), the cooldown an unstake waits before its amount is available again, and the fee a send pays
   * (ledger micros, burned: counted by the conservation check).
   */
  WALLET_STAKE_MULTIPLIERS: json(StakeMultipliersSchema, '{"7": 1.1, "30": 1.5, "90": 2, "365": 3}'),
  WALLET_UNSTAKE_COOLDOWN_DAYS: parsed(z.coerce.number<string>().int().min(0).max(365).default(7)),
  WALLET_SEND_FEE_MICROS: parsed(z.coerce.number<string>().int().min(0).max(1_000_000_000).default(0)),
  /** Wallet moves (send, stake, unstake) a customer key may make a minute, besides its requests_per_minute (which every wallet call counts against). */
  WALLET_MOVES_PER_MINUTE: parsed(z.coerce.number<string>().int().min(1).max(100_000).default(10)),
  /** The currency the ledger's micros are millionths of, as the wallet and the node API name it. */
  LEDGER_CURRENCY: parsed(
    z
      .string()
      .regex(/^[A-Z][A-Z0-9]{1,11}$/, "an upper-case currency code such as USD")
      .default("USD"),
  ),
  GATEWAY_MODELS: json(GatewayModelsSchema, '{"default": {"pool": "local", "session_id": 0}}'),
  GATEWAY_POOLS: json(GatewayPoolsSchema, '{"local": {"type": "local"}}'),
  GATEWAY_PRICES: json(GatewayPricesSchema, '{"*": {"prompt_per_1k_micros": 100, "completion_per_1k_micros": 200}}'),
  /**
   * Miner rewards (workers/rewards/miner-rewards.ts). A task whose price is known where it runs (the gateway's
   * local pool, x402 routes) pays its agreeing miners MINER_REWARD_SHARE_BPS of what it was billed (basis
   * points: 2000 = 20 %); any other task pays them MINER_REWARD_MICROS_PER_TOKEN ledger micros per completion
   * token of the chosen output. Either amount is split evenly among the agreeing miners; 0 turns that kind off.
   */
  MINER_REWARD_SHARE_BPS: parsed(z.coerce.number<string>().int().min(0).max(10_000).default(2000)),
  MINER_REWARD_MICROS_PER_TOKEN: parsed(z.coerce.number<string>().int().min(0).max(1_000_000).default(1)),
  /**
   * Money from declared sources only (workers/rewards/reward-sources.ts). The per-token reward of a task
   * nobody paid for (router key, trial, A2A, MCP, chain) is drawn from a declared emission pool, the account
   * `source:<MINER_EMISSION_POOL>`, which pays at most MINER_EMISSION_BUDGET_MICROS a UTC day over all
   * sessions (unset: 100 000 000 outside production, 0 in production: no emission unless declared) and at
   * most MINER_REWARD_MAX_MICROS_PER_TASK to one task's miners. A spent pool pays nothing until the next day.
   */
  MINER_EMISSION_BUDGET_MICROS: parsed(z.coerce.number<string>().int().min(0).max(Number.MAX_SAFE_INTEGER).optional()),
  MINER_EMISSION_POOL: parsed(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "lowercase letters, digits and '-', at most 40")
      .default("emission"),
  ),
  MINER_REWARD_MAX_MICROS_PER_TASK: parsed(z.coerce.number<string>().int().min(0).max(Number.MAX_SAFE_INTEGER).default(10_000)),
  /**
   * Slashing: a miner whose answered result was outvoted by a clear majority (the agreeing miners at least
   * MINER_SLASH_MAJORITY_BPS of the miners that answered) loses MINER_SLASH_SHARE_BPS of its payout account's
   * stake. 0 (the default) turns slashing off.
   */
  MINER_SLASH_SHARE_BPS: parsed(z.coerce.number<string>().int().min(0).max(10_000).default(0)),
  MINER_SLASH_MAJORITY_BPS: parsed(z.coerce.number<string>().int().min(5001).max(10_000).default(6500)),
  /** The least a slash takes (ledger micros), capped by the stake itself: a tiny stake is not slashed by nothing. */
  MINER_SLASH_MIN_MICROS: parsed(z.coerce.number<string>().int().min(0).max(Number.MAX_SAFE_INTEGER).default(100_000)),
  /**
   * Stake-weighted selection (workers/wallet/stake-weight.ts): a payout account's locked stake is divided
   * among the miners paying out to it; a miner's share up to MINER_MIN_STAKE_MICROS earns nothing, and the
   * stake tier's bonus grows linearly with the share above it, in full at MINER_STAKE_FULL_WEIGHT_MICROS above it.
   */
  MINER_MIN_STAKE_MICROS: parsed(z.coerce.number<string>().int().min(0).max(Number.MAX_SAFE_INTEGER).default(1_000_000)),
  MINER_STAKE_FULL_WEIGHT_MICROS: parsed(z.coerce.number<string>().int().min(1).max(Number.MAX_SAFE_INTEGER).default(10_000_000)),
  /**
   * Agreeing results a miner on probation (a joined miner, or one an operator put there: PATCH
   * `probation: true`) still needs before it is established (workers/miners/probation.ts). Until then it is
   * selected only beside established miners, never as a majority of one task, and its answer never decides one.
   */
  MINER_PROBATION_RESULTS: parsed(z.coerce.number<string>().int().min(1).max(100_000).default(5)),
  /** The gateway model alias (GATEWAY_MODELS) the NeuroShard node surface's inference runs on: its session, pool and price. */
  NEUROSHARD_MODEL: parsed(z.string().min(1).max(64).default("default")),

  // The chain indexer: strings here, read by ChainVarsSchema (a bad value never refuses the router).
  ...(Object.fromEntries(Object.keys(ChainVarsSchema.shape).map((name) => [name, blank])) as Record<keyof typeof ChainVarsSchema.shape, typeof blank>),

  // Secrets (`wrangler secret put`).
  ROUTER_API_KEYS: list,
  ADMIN_API_KEY: secret,
  MINER_CREDENTIAL_KEY: secret,
  PAYLOAD_MASTER_KEY: secret,
  /** secp256k1 private key (0x + 64 hex) the router signs receipts with; its address is the router's id in miner signatures. */
  ROUTER_SIGNER_KEY: secret,
  EMBEDDING_API_KEY: secret,
  /** The router's chain account, for CHAIN_WRITEBACK. */
  CHAIN_SIGNER_KEY: secret,
  SEARCH_PROVIDER_API_KEY: secret,
};

/** The vars as Workers passes them (every one a string, every one optional); `Env` is these plus the bindings. */
const VarsSchema = z.object(VarsShape);
export type Vars = z.input<typeof VarsSchema>;
/** The names of every var the router reads. */
export const VAR_NAMES: ReadonlySet<string> = new Set(Object.keys(VarsShape));

// ---------------------------------------------------------------------------
// The configuration the router runs with.
// ---------------------------------------------------------------------------

export type Price = z.infer<typeof PriceSchema>;
export type Pool = { name: string; type: "local" } | { name: string; type: "remote"; routers: { url: string; key: string }[]; timeoutS: number };
export type Backend = z.infer<typeof PayloadBackendsSchema>[number] & { r2: R2Bucket };

/** Duck-typed: workerd exposes no R2Bucket class to test a binding against. */
function isR2Bucket(value: unknown): value is R2Bucket {
  return typeof value === "object" && value !== null && "get" in value && "put" in value && "head" in value && "delete" in value;
}

/**
 * The vars (and, by name, the R2 bindings and secrets they refer to) as the
 * configuration the router runs with. `problems` says why it must not serve;
 * a var that does not parse is one (in every environment), a production
 * configuration with a dev-only credential or a missing secret is another.
 */
const ConfigSchema = z.looseObject(VarsShape).transform((e) => {
  const production = e.ENVIRONMENT === "production";
  const problems: string[] = [];

  let routerKeys = e.ROUTER_API_KEYS;
  let adminKey = e.ADMIN_API_KEY;
  let credentialKey = e.MINER_CREDENTIAL_KEY;
  let payloadMasterKey = e.PAYLOAD_MASTER_KEY;
  let signerKey = e.ROUTER_SIGNER_KEY;
  if (signerKey && !/^0x[0-9a-fA-F]{64}$/.test(signerKey)) problems.push("ROUTER_SIGNER_KEY must be a 0x-prefixed 32-byte hex private key");
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
    if (!signerKey) problems.push("ROUTER_SIGNER_KEY secret is not set");
    if (signerKey.toLowerCase() === DEV_ROUTER_SIGNER_KEY) problems.push("ROUTER_SIGNER_KEY is the dev key");
    if (e.WEB_FETCH_ALLOW_HOSTS.length > 0) problems.push("WEB_FETCH_ALLOW_HOSTS must not be set in production");
    if (e.ALLOW_PRIVATE_MINER_URLS) problems.push("ALLOW_PRIVATE_MINER_URLS must not be set in production");
  } else {
    if (routerKeys.length === 0) routerKeys = [DEV_ROUTER_TOKEN];
    adminKey ||= DEV_ADMIN_TOKEN;
    credentialKey ||= DEV_CREDENTIAL_KEY;
    payloadMasterKey ||= DEV_PAYLOAD_MASTER_KEY;
    signerKey ||= DEV_ROUTER_SIGNER_KEY;
  }

  // The R2 bindings PAYLOAD_BACKENDS names must exist.
  const payloadBackends: Backend[] = [];
  for (const b of e.PAYLOAD_BACKENDS) {
    const r2 = e[b.binding];
    if (isR2Bucket(r2)) payloadBackends.push({ ...b, r2 });
    else problems.push(`PAYLOAD_BACKENDS: backend ${b.index} names binding ${b.binding}, which is not an R2 bucket binding`);
  }
  if (!e.PAYLOAD_BACKENDS.some((b) => b.index === e.PAYLOAD_WRITE_BACKEND)) {
    problems.push(`PAYLOAD_WRITE_BACKEND: PAYLOAD_BACKENDS has no backend ${e.PAYLOAD_WRITE_BACKEND}`);
  }

  // Gateway pools, with the remote routers' keys read from the secrets they name.
  const pools: Record<string, Pool> = {};
  for (const [name, p] of Object.entries(e.GATEWAY_POOLS)) {
    if (p.type === "local") {
      pools[name] = { name, type: "local" };
      continue;
    }
    const routers = p.routers.map((r) => {
      const key = e[r.key_secret];
      if (typeof key !== "string" || !key) problems.push(`GATEWAY_POOLS: pool ${name} names secret ${r.key_secret}, which is not set`);
      return { url: r.url.replace(/\/+$/, ""), key: typeof key === "string" ? key : "" };
    });
    pools[name] = { name, type: "remote", timeoutS: p.timeout_s, routers };
  }
  for (const [alias, m] of Object.entries(e.GATEWAY_MODELS)) {
    if (!Object.hasOwn(pools, m.pool)) problems.push(`GATEWAY_MODELS: alias ${alias} names unknown pool ${m.pool}`);
  }

  return {
    environment: e.ENVIRONMENT,
    routerName: e.ROUTER_NAME,
    defaultSessionId: e.DEFAULT_SESSION_ID,
    defaultTimeoutS: e.DEFAULT_TIMEOUT_S,
    maxTimeoutS: e.MAX_TIMEOUT_S,
    maxBodyBytes: e.MAX_BODY_BYTES,
    similarityThreshold: e.CONSENSUS_SIMILARITY_THRESHOLD,
    /** Miner rewards and slashing (workers/rewards/). */
    rewards: {
      shareBps: e.MINER_REWARD_SHARE_BPS,
      microsPerToken: e.MINER_REWARD_MICROS_PER_TOKEN,
      maxMicrosPerTask: e.MINER_REWARD_MAX_MICROS_PER_TASK,
      emission: { pool: e.MINER_EMISSION_POOL, budgetMicros: e.MINER_EMISSION_BUDGET_MICROS ?? (production ? 0 : DEV_EMISSION_BUDGET_MICROS) },
      slashShareBps: e.MINER_SLASH_SHARE_BPS,
      slashMajorityBps: e.MINER_SLASH_MAJORITY_BPS,
    },
    /** Where consensus gets embeddings: built-in lexical, or an OpenAI-compatible /v1/embeddings. */
    embedding: embeddingFrom(e.EMBEDDING_SOURCE, e.EMBEDDING_URL, e.EMBEDDING_MODEL, e.EMBEDDING_API_KEY),
    // Dev miners listen on loopback; in production a miner URL must be public.
    allowPrivateMinerUrls: !production || e.ALLOW_PRIVATE_MINER_URLS,
    objectTrafficMeter: e.OBJECT_TRAFFIC_METER,
    maxPayloadBytes: e.MAX_PAYLOAD_BYTES,
    payloadRetentionS: e.PAYLOAD_RETENTION_S,
    payloadWriteBackend: e.PAYLOAD_WRITE_BACKEND,
    /** The R2 buckets payloads may live in (PAYLOAD_BACKENDS, each with its binding). */
    payloadBackends,
    /** Base URL miners use to reach this router; defaults to the request's origin. */
    publicUrl: e.ROUTER_PUBLIC_URL,
    payloadMasterKey,
    /** The router's receipt signing key (ROUTER_SIGNER_KEY; the dev key outside production). */
    signerKey: (/^0x[0-9a-fA-F]{64}$/.test(signerKey) ? signerKey : DEV_ROUTER_SIGNER_KEY) as `0x${string}`,
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
    /** The chain indexer's target, or why there is none. */
    chain: chainConfigFrom(e),
    /** The hosted gateway's model aliases, router pools and prices. */
    gateway: { models: e.GATEWAY_MODELS, pools, prices: e.GATEWAY_PRICES },
    /** The wallet's currency, stake multipliers (by days, longest first), unstake cooldown and send fee. */
    wallet: {
      currency: e.LEDGER_CURRENCY,
      stakeTiers: stakeTiersFrom(e.WALLET_STAKE_MULTIPLIERS),
      unstakeCooldownDays: e.WALLET_UNSTAKE_COOLDOWN_DAYS,
      sendFeeMicros: e.WALLET_SEND_FEE_MICROS,
      movesPerMinute: e.WALLET_MOVES_PER_MINUTE,
    },
    /** How stake weighs in selection, and the least a slash takes (workers/wallet/stake-weight.ts). */
    stakeWeight: {
      minStakeMicros: e.MINER_MIN_STAKE_MICROS,
      fullWeightMicros: e.MINER_STAKE_FULL_WEIGHT_MICROS,
      slashMinMicros: e.MINER_SLASH_MIN_MICROS,
    },
    /** Agreeing results a miner on probation needs before it is established (workers/miners/probation.ts). */
    probationResults: e.MINER_PROBATION_RESULTS,
    /** The NeuroShard node surface (workers/neuroshard/). */
    neuroshard: { model: e.NEUROSHARD_MODEL },
    routerKeys,
    adminKey,
    credentialKey,
    /** Why this configuration must not serve; empty when it may. */
    problems,
  };
});

function embeddingFrom(
  source: "lexical" | "openai",
  url: string | undefined,
  model: string,
  apiKey: string,
): { source: "lexical" } | { source: "openai"; url: string; model: string; apiKey?: string } {
  return source === "openai" && url ? { source: "openai", url, model, ...(apiKey ? { apiKey } : {}) } : { source: "lexical" };
}

export type RouterConfig = z.output<typeof ConfigSchema>;
export type GatewayConfig = RouterConfig["gateway"];

const cache = new WeakMap<Env, RouterConfig>();

/**
 * Reads and checks the configuration once per env object (Workers keeps one
 * per isolate, so the hot path reads it from the cache). A configuration
 * that does not parse, or a production one that would accept a dev-only
 * credential or lacks a secret, comes back with `problems`, and the app then
 * refuses every request.
 */
export function loadConfig(env: Env): RouterConfig {
  const hit = cache.get(env);
  if (hit) return hit;
  const config = parseConfig(env);
  cache.set(env, config);
  return config;
}

function parseConfig(env: Env): RouterConfig {
  const first = ConfigSchema.safeParse(env);
  if (first.success) return first.data;
  // Each var that does not parse is a problem; the rest of the configuration
  // is read without those vars (their defaults), so it is whole but refuses to serve.
  const problems = first.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  const bad = new Set(first.error.issues.map((i) => i.path[0]));
  const rest = Object.fromEntries(Object.entries(env).filter(([name]) => !bad.has(name)));
  // Every var reads unset as its default and the checks across vars are
  // problems, not issues, so without the vars that failed this parse succeeds.
  const config = ConfigSchema.parse(rest);
  return { ...config, problems: [...problems, ...config.problems] };
}
