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
    stop: z.array(z.string().min(1).max(256)).max(16).default([]),
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
