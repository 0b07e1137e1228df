import { z } from "@hono/zod-openapi";

/**
 * The NeuroShard node HTTP API's inference contract (shared/seeds/003):
 * what a NeuroShard node takes at `POST /api/v1/inference`, and what it
 * answers. The router speaks it both ways: to NeuroShard miners
 * (workers/miners/neuroshard-protocol.ts) and as a node itself
 * (workers/neuroshard/).
 */
export const NeuroShardInferenceRequestSchema = z
  .object({
    prompt: z.string().min(1).max(1_000_000),
    max_tokens: z.number().int().min(1).max(32_768).default(100),
    temperature: z.number().min(0).max(2).default(1.0),
    top_p: z.number().gt(0).max(1).default(1.0),
    top_k: z.number().int().min(1).max(100_000).default(50),
    stream: z.boolean().default(false),
    stop: z.array(z.string().min(1).max(256)).max(4).default([]),
  })
  .strict()
  .openapi("NeuroShardInferenceRequest");
export type NeuroShardInferenceRequest = z.infer<typeof NeuroShardInferenceRequestSchema>;

const TokenCount = z.number().int().nonnegative();

export const NeuroShardUsageSchema = z.object({ prompt_tokens: TokenCount, completion_tokens: TokenCount, total_tokens: TokenCount }).openapi("NeuroShardUsage");

export const NeuroShardInferenceResponseSchema = z
  .object({
    id: z.string(),
    text: z.string(),
    tokens_generated: TokenCount,
    finish_reason: z.string().nullable(),
    usage: NeuroShardUsageSchema,
    /** What the caller was charged, in the gateway ledger's currency. */
    cost: z.object({ amount: z.number(), currency: z.string() }),
    timing: z.object({ queue_ms: z.number(), inference_ms: z.number(), total_ms: z.number() }),
  })
  .openapi("NeuroShardInferenceResponse");
export type NeuroShardInferenceResponse = z.infer<typeof NeuroShardInferenceResponseSchema>;

/** One generated token of a stream: `data: {"token", "index"}`. */
export const NeuroShardTokenEventSchema = z.object({ token: z.string(), index: TokenCount });
/** The stream's last event: `data: {"token": "[DONE]", "finish_reason", "usage"}`. */
export const NeuroShardDoneEventSchema = z.object({
  token: z.literal("[DONE]"),
  finish_reason: z.string().nullish(),
  usage: z.object({ prompt_tokens: TokenCount, completion_tokens: TokenCount }).passthrough().nullish(),
});

/** What the router needs of a NeuroShard miner's non-streaming answer; the rest (cost, timing) is the node's own business. */
export const NeuroShardMinerAnswerSchema = z.object({
  text: z.string(),
  finish_reason: z.string().nullish(),
  usage: z.object({ prompt_tokens: TokenCount, completion_tokens: TokenCount }).passthrough().nullish(),
});

/** `GET /api/v1/health` of a node. */
export const NeuroShardHealthSchema = z.object({ healthy: z.boolean(), checks: z.record(z.string(), z.string()) }).openapi("NeuroShardHealth");

const measured = (what: string) =>
  z
    .number()
    .nullable()
    .openapi({ description: `${what}; null where this deployment does not measure it` });

/** `GET /neuroshard/api/v1/status`: the router as a node (the network's gateway node). */
export const NeuroShardStatusSchema = z
  .object({
    node_id: z.string(),
    version: z.string(),
    uptime_seconds: z.number().int().openapi({ description: "seconds this Worker isolate has been serving (Workers have no longer-lived process)" }),
    status: z.enum(["running", "degraded"]),
    role: z.string(),
    layers: z.array(z.number().int()),
    peer_count: z.number().int(),
    training: z.object({ enabled: z.boolean(), epoch: measured("epoch"), step: measured("step"), loss: measured("loss") }),
    resources: z.object({
      gpu_memory_used: measured("bytes"),
      gpu_memory_total: measured("bytes"),
      cpu_percent: measured("percent"),
      ram_used: measured("bytes"),
    }),
  })
  .openapi("NeuroShardStatus");
export type NeuroShardStatus = z.infer<typeof NeuroShardStatusSchema>;

export const NeuroShardNodeHealthSchema = z
  .object({
    healthy: z.boolean(),
    checks: z.record(z.string(), z.string()).openapi({ description: "each check: `ok`, or what is wrong" }),
  })
  .openapi("NeuroShardNodeHealth");

export const NeuroShardMetricsSchema = z
  .object({
    timestamp: z.string(),
    inference: z.object({
      requests_total: z.number().int(),
      requests_per_minute: z.number(),
      avg_latency_ms: measured("over ended tasks"),
      p99_latency_ms: measured("over ended tasks"),
      tokens_generated: z.number().int(),
    }),
    training: z.object({
      steps_total: measured("steps"),
      steps_per_hour: measured("steps"),
      gradients_submitted: measured("count"),
      gradients_accepted: measured("count"),
    }),
    network: z.object({
      bytes_sent: measured("bytes"),
      bytes_received: measured("bytes"),
      active_connections: measured("count"),
      rpc_calls: measured("count"),
    }),
    rewards: z.object({ earned_today: measured("amount"), earned_total: measured("amount"), pending: measured("amount") }),
  })
  .openapi("NeuroShardMetrics");
export type NeuroShardMetrics = z.infer<typeof NeuroShardMetricsSchema>;

export const NeuroShardPeerSchema = z
  .object({
    id: z.string(),
    address: z.string().openapi({ description: "the miner's host (and port), never its path, query or credential" }),
    role: z.string(),
    layers: z.array(z.number().int()),
    latency_ms: z.number().nullable(),
    connected_since: z.string(),
    healthy: z.boolean(),
    protocol: z.enum(["openai", "neuroshard"]),
  })
  .openapi("NeuroShardPeer");

export const NeuroShardPeersSchema = z.object({ peers: z.array(NeuroShardPeerSchema), total: z.number().int() }).openapi("NeuroShardPeers");

/** The node API's error body. */
export const NeuroShardErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }) })
  .openapi("NeuroShardError");

/** What the router keeps of a NeuroShard miner's `GET /api/v1/status` (read by the health check). */
export const NeuroShardNodeReportSchema = z
  .object({
    node_id: z.string().max(256).optional(),
    role: z.string().max(64),
    layers: z.array(z.number().int().nonnegative()).max(4096),
    training: z.object({ enabled: z.boolean(), epoch: z.number().nullish(), step: z.number().nullish(), loss: z.number().nullish() }).nullish(),
  })
  .openapi("NeuroShardNodeReport");
export type NeuroShardNodeReport = z.infer<typeof NeuroShardNodeReportSchema>;
