import { z } from "zod";
import { DEV_CHAIN_KEYS } from "./dev-credentials.ts";
import { blank, flag, json, parsed, secret } from "./var-readers.ts";

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
  /**
   * The ReceiptAnchor contract receipts' Merkle roots are posted to, from the CHAIN_SIGNER_KEY account;
   * unset: receipts are not anchored. A batch is posted every ANCHOR_BATCH_SIZE receipts or
   * ANCHOR_INTERVAL_S seconds after its oldest, whichever comes first.
   */
  CHAIN_ANCHOR_ADDRESS: parsed(address.optional()),
  ANCHOR_BATCH_SIZE: parsed(z.coerce.number<string>().int().min(1).max(10_000).default(64)),
  ANCHOR_INTERVAL_S: parsed(
    z.coerce
      .number<string>()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(300),
  ),
  /**
   * The RewardDistributor miners claim their earnings from; unset: earnings stay in the ledger only. Every
   * REWARD_EPOCH_S seconds the router posts, from the CHAIN_SIGNER_KEY account (the distributor's poster),
   * the Merkle root of each proven miner address's cumulative earnings (durable-objects/chain-index/reward-epochs.ts).
   */
  CHAIN_REWARD_DISTRIBUTOR_ADDRESS: parsed(address.optional()),
  REWARD_EPOCH_S: parsed(
    z.coerce
      .number<string>()
      .int()
      .min(10)
      .max(30 * 86_400)
      .default(3600),
  ),
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
/** Where and how often receipts are anchored (`domain/receipts/anchor.ts`); the key is CHAIN_SIGNER_KEY's, never stored. */
export type AnchorTarget = { rpcUrl: string; chainId: number; anchorAddress: `0x${string}`; batchSize: number; intervalMs: number; rpcTimeoutMs: number };
/** Where miners' earnings are posted and claimed, and how often an epoch closes; the key is CHAIN_SIGNER_KEY's, never stored. */
export type RewardTarget = { rpcUrl: string; chainId: number; distributorAddress: `0x${string}`; epochMs: number; rpcTimeoutMs: number };
/** Not configured (no CHAIN_RPC_URL), configured, or configured wrongly (`problems` name the vars). */
export type ChainConfig =
  | { state: "unconfigured" }
  | { state: "configured"; target: ChainTarget; signerKey: `0x${string}` | null; anchor: AnchorTarget | null; rewards: RewardTarget | null }
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
  if (v.CHAIN_ANCHOR_ADDRESS && !SIGNER_KEY.test(key)) {
    return { state: "misconfigured", problems: ["CHAIN_SIGNER_KEY: CHAIN_ANCHOR_ADDRESS is set, so the secret must be set to a 0x-prefixed 32-byte hex private key"] };
  }
  if (v.CHAIN_REWARD_DISTRIBUTOR_ADDRESS && !SIGNER_KEY.test(key)) {
    return {
      state: "misconfigured",
      problems: ["CHAIN_SIGNER_KEY: CHAIN_REWARD_DISTRIBUTOR_ADDRESS is set, so the secret must be set to a 0x-prefixed 32-byte hex private key"],
    };
  }
  if (v.CHAIN_WRITEBACK && !SIGNER_KEY.test(key)) {
    return { state: "misconfigured", problems: ["CHAIN_SIGNER_KEY: CHAIN_WRITEBACK is on, so the secret must be set to a 0x-prefixed 32-byte hex private key"] };
  }
  const production = (vars.ENVIRONMENT ?? "production") === "production" || vars.ENVIRONMENT === "";
  if ((v.CHAIN_WRITEBACK || v.CHAIN_ANCHOR_ADDRESS || v.CHAIN_REWARD_DISTRIBUTOR_ADDRESS) && production && DEV_CHAIN_KEYS.includes(key.toLowerCase())) {
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
    anchor: v.CHAIN_ANCHOR_ADDRESS
      ? {
          rpcUrl: v.CHAIN_RPC_URL,
          chainId: v.CHAIN_ID,
          anchorAddress: v.CHAIN_ANCHOR_ADDRESS.toLowerCase() as `0x${string}`,
          batchSize: v.ANCHOR_BATCH_SIZE,
          intervalMs: v.ANCHOR_INTERVAL_S * 1000,
          rpcTimeoutMs: v.CHAIN_RPC_TIMEOUT_MS,
        }
      : null,
    rewards: v.CHAIN_REWARD_DISTRIBUTOR_ADDRESS
      ? {
          rpcUrl: v.CHAIN_RPC_URL,
          chainId: v.CHAIN_ID,
          distributorAddress: v.CHAIN_REWARD_DISTRIBUTOR_ADDRESS.toLowerCase() as `0x${string}`,
          epochMs: v.REWARD_EPOCH_S * 1000,
          rpcTimeoutMs: v.CHAIN_RPC_TIMEOUT_MS,
        }
      : null,
  };
}

/**
 * The chain indexer's vars in the one schema: strings here, read by ChainVarsSchema (a bad value
 * never refuses the router), and the secret CHAIN_SIGNER_KEY.
 */
export const chainVars = {
  ...(Object.fromEntries(Object.keys(ChainVarsSchema.shape).map((name) => [name, blank])) as Record<keyof typeof ChainVarsSchema.shape, typeof blank>),
  // Secret (`wrangler secret put`).
  /** The router's chain account, for CHAIN_WRITEBACK, CHAIN_ANCHOR_ADDRESS and CHAIN_REWARD_DISTRIBUTOR_ADDRESS. */
  CHAIN_SIGNER_KEY: secret,
};

export function chainSection(e: Record<string, unknown>) {
  return {
    /** The chain indexer's target, or why there is none. */
    chain: chainConfigFrom(e),
  };
}
