import { z } from "@hono/zod-openapi";
import { queryInt } from "./common.ts";

/**
 * The NeuroShard node HTTP API's inference contract (shared/seeds/003):
 * what a NeuroShard node takes at `POST /api/v1/inference`, and what it
 * answers. The router speaks it both ways: to NeuroShard miners
 * (domain/miners/neuroshard-protocol.ts) and as a node itself
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

/**
 * A node's own usage figures, kept for audit only (the router counts its own):
 * any non-negative figure, even past 2^53, so a lie is kept and judged; a
 * malformed report reads as none and the answer stands.
 */
const ReportedNodeUsage = z.object({ prompt_tokens: z.number().nonnegative(), completion_tokens: z.number().nonnegative() }).passthrough().nullish().catch(null);

/** One generated token of a stream: `data: {"token", "index"}`. */
export const NeuroShardTokenEventSchema = z.object({ token: z.string(), index: TokenCount });
/** The stream's last event: `data: {"token": "[DONE]", "finish_reason", "usage"}`. */
export const NeuroShardDoneEventSchema = z.object({
  token: z.literal("[DONE]"),
  finish_reason: z.string().nullish(),
  usage: ReportedNodeUsage,
});

/** What the router needs of a NeuroShard miner's non-streaming answer; the rest (cost, timing) is the node's own business. */
export const NeuroShardMinerAnswerSchema = z.object({
  text: z.string(),
  finish_reason: z.string().nullish(),
  usage: ReportedNodeUsage,
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
    rewards: z.object({ earned_today: z.number(), earned_total: z.number(), pending: z.number() }).openapi({
      description:
        "what the committed tasks paid their miners, in the wallet's currency: in all, since UTC midnight, and what the sessions recorded and the payout accounts' Ledgers have not taken yet",
    }),
  })
  .openapi("NeuroShardMetrics");
export type NeuroShardMetrics = z.infer<typeof NeuroShardMetricsSchema>;

export const NeuroShardPeerSchema = z
  .object({
    id: z.string(),
    address: z
      .string()
      .nullable()
      .openapi({ description: "the miner's host (and port), never its path, query or credential; null for a customer key (where a miner listens is the operator's)" }),
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

/** One layer as a node's `GET /api/v1/layers` lists it (the seed's fields). */
const ReportedLayer = z.object({
  index: z.number().int().nonnegative(),
  type: z.string().max(64).nullish(),
  memory_mb: z.number().nonnegative().nullish(),
});

/** What the router reads of a node's `GET /api/v1/layers`: its layers' details and the model's layer count (a report that does not read is none). */
export const NeuroShardLayersReportSchema = z.object({
  layers: z.array(ReportedLayer).max(4096),
  total_layers: z.number().int().positive().max(1_000_000).nullish(),
});

/** What the router keeps of a NeuroShard miner's `GET /api/v1/status`, with its `GET /api/v1/layers` (read by the health check). */
export const NeuroShardNodeReportSchema = z
  .object({
    node_id: z.string().max(256).optional(),
    role: z.string().max(64),
    layers: z.array(z.number().int().nonnegative()).max(4096),
    training: z.object({ enabled: z.boolean(), epoch: z.number().nullish(), step: z.number().nullish(), loss: z.number().nullish() }).nullish(),
    /** Its layers' type and memory, as its `GET /api/v1/layers` lists them (absent: it sent none that reads). */
    layer_details: z.array(ReportedLayer).max(4096).optional(),
    /** The model's layer count, as its `GET /api/v1/layers` says (`total_layers`). */
    total_layers: z.number().int().positive().max(1_000_000).nullish(),
  })
  .openapi("NeuroShardNodeReport");
export type NeuroShardNodeReport = z.infer<typeof NeuroShardNodeReportSchema>;

export const NeuroShardProofsQuerySchema = z.object({
  limit: queryInt("limit", { min: 1, max: 100, fallback: 10 }),
});

/** One decided task's consensus record, as the node API lists a proof. */
export const NeuroShardProofSchema = z
  .object({
    id: z.string().openapi({ example: "proof_0_12" }),
    type: z.literal("inference"),
    layer: z.number().int().nullable().openapi({ description: "the router computes no layer: null" }),
    timestamp: z.string(),
    verified: z.boolean().openapi({ description: "the miners reached consensus (a majority agreed)" }),
    reward: z.number().nullable().openapi({
      description:
        "what the task paid its miners in all, in the wallet's currency (0: a failed task, or no agreeing miner had a payout account); null only for a task decided before tasks recorded it",
    }),
    session_id: z.number().int(),
    task_id: z.number().int(),
    status: z.string(),
    consensus: z.string().nullable(),
    precommit_hash: z.string().nullable().openapi({ description: "SHA-256 of the agreed output" }),
    agreed: z.number().int(),
    redundancy: z.number().int(),
  })
  .openapi("NeuroShardProof");

export const NeuroShardProofsSchema = z
  .object({
    proofs: z.array(NeuroShardProofSchema),
    stats: z.object({
      total_submitted: z.number().int(),
      total_verified: z.number().int(),
      total_reward: z.number().openapi({ description: "what the counted tasks paid their miners, in the wallet's currency" }),
    }),
  })
  .openapi("NeuroShardProofs");

export const NeuroShardLayersSchema = z
  .object({
    layers: z.array(
      z.object({
        index: z.number().int(),
        type: z.string().nullable().openapi({ description: "as its holders report it (`GET /api/v1/layers`); null when none says" }),
        memory_mb: z.number().nullable().openapi({ description: "as its holders report it; null when none says" }),
        status: z.enum(["active", "unserved"]),
        holders: z.array(z.string()).openapi({ description: "the NeuroShard miners reporting this layer" }),
      }),
    ),
    total_layers: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "the model's layer count as the miners report it (the largest); null when none reports it. `/network`'s `architecture.layers` is the same figure" }),
    my_layer_count: z.number().int(),
  })
  .openapi("NeuroShardLayers");

export const NeuroShardNetworkSchema = z
  .object({
    nodes: z.object({
      total: z.number().int(),
      drivers: z.number().int(),
      workers: z.number().int(),
      validators: z.number().int(),
      full_model: z.number().int().openapi({ description: "OpenAI-compatible miners, each serving whole models" }),
      unreported: z.number().int().openapi({ description: "NeuroShard miners whose status the health check has not read yet" }),
    }),
    architecture: z.object({
      layers: z.number().int().nullable().openapi({ description: "`/layers`' `total_layers`: the model's layer count as the miners report it" }),
      hidden_dim: z.number().int().nullable(),
      parameters: z.string().nullable(),
    }),
    capacity: z.object({
      total_memory_gb: z.number().nullable(),
      used_memory_gb: z.number().nullable(),
      max_concurrency: z.number().int().openapi({ description: "calls the healthy miners take at once" }),
      in_flight: z.number().int(),
    }),
    training: z.object({ epoch: z.number().nullable(), global_step: z.number().nullable(), loss: z.number().nullable(), nodes_training: z.number().int() }),
  })
  .openapi("NeuroShardNetwork");

const rate = z.number().min(0).max(1);

/** A node's `GET /api/training/global`, as the router reads it of a NeuroShard miner (fields it does not send are null). */
export const NeuroShardTrainingReportSchema = z
  .object({
    global_avg_loss: z.number().nullish(),
    global_min_loss: z.number().nullish(),
    hash_agreement_rate: rate.nullish(),
    total_nodes_training: z.number().int().nonnegative().nullish(),
    successful_syncs: z.number().int().nonnegative().nullish(),
    failed_syncs: z.number().int().nonnegative().nullish(),
    global_steps: z.number().int().nonnegative().nullish(),
    global_tokens: z.number().int().nonnegative().nullish(),
    data_shards_covered: z.array(z.number().int().nonnegative()).max(100_000).nullish(),
    is_converging: z.boolean().nullish(),
    training_verified: z.boolean().nullish(),
    loss_trend: z.string().max(32).nullish(),
    local: z.object({ node_id: z.string().max(256).nullish(), training_rounds: z.number().nullish(), current_loss: z.number().nullish(), is_training: z.boolean() }).nullish(),
  })
  .openapi("NeuroShardTrainingReport");
export type NeuroShardTrainingReport = z.infer<typeof NeuroShardTrainingReportSchema>;

/** `GET /neuroshard/api/training/global`: the network's training, aggregated from the NeuroShard miners that train. */
export const NeuroShardTrainingGlobalSchema = z
  .object({
    global_avg_loss: z.number().nullable(),
    global_min_loss: z.number().nullable(),
    hash_agreement_rate: rate.nullable(),
    total_nodes_training: z.number().int(),
    successful_syncs: z.number().int(),
    failed_syncs: z.number().int(),
    sync_success_rate: rate.nullable(),
    global_steps: z.number().int(),
    global_tokens: z.number().int(),
    data_shards_covered: z.array(z.number().int()),
    is_converging: z.boolean(),
    training_verified: z.boolean(),
    loss_trend: z.string(),
    local: z.null().openapi({ description: "the router trains nothing itself" }),
    diloco: z.null(),
    /** Why the figures say what they say: which miners reported, or that none trains. */
    reason: z.string(),
    nodes: z.array(z.object({ id: z.string(), current_loss: z.number().nullable(), hash_agreement_rate: rate.nullable(), loss_trend: z.string().nullable() })),
  })
  .openapi("NeuroShardTrainingGlobal");
export type NeuroShardTrainingGlobal = z.infer<typeof NeuroShardTrainingGlobalSchema>;

export const NeuroShardTrainingVerifySchema = z
  .object({
    is_working: z.boolean(),
    reason: z.string(),
    action: z.string().optional(),
    metrics: z.object({ loss_trend: z.string(), hash_agreement: z.string(), global_loss: z.number().nullable() }).optional(),
  })
  .openapi("NeuroShardTrainingVerify");

/** `GET /neuroshard/api/v1/config`: the node fields of the seed (null where a Worker has no such setting) and the router's non-secret settings. */
export const NeuroShardConfigSchema = z
  .object({
    node_id: z.string(),
    port: z.number().int().nullable(),
    grpc_port: z.number().int().nullable(),
    tracker_url: z.string().nullable(),
    training: z.object({ enabled: z.boolean(), batch_size: z.number().nullable(), learning_rate: z.number().nullable(), diloco_steps: z.number().nullable() }),
    resources: z.object({ max_memory_gb: z.number().nullable(), cpu_threads: z.number().nullable() }),
    router: z.object({
      environment: z.string(),
      default_session_id: z.number().int().nullable(),
      default_timeout_s: z.number(),
      max_timeout_s: z.number(),
      max_body_bytes: z.number().int(),
      consensus: z.object({ similarity_threshold: z.number(), embedding: z.string() }),
      trial: z.object({ routes: z.array(z.string()), requests_per_window: z.number().int(), window_s: z.number().int(), max_tokens: z.number().int(), max_timeout_s: z.number() }),
      inference_model: z.string().openapi({ description: "NEUROSHARD_MODEL: the gateway alias node inference runs on" }),
    }),
  })
  .openapi("NeuroShardConfig");

const Seconds = z.number().min(5).max(3600);
const Count = z.number().int().min(1).max(1_000_000);

/** The seed's node settings, which are not the router's: read here only to refuse them saying why (config-patch.ts). */
export const NODE_ONLY_SETTINGS = ["node_id", "port", "grpc_port", "tracker_url", "training", "resources"] as const;
const nodeOnly = z.unknown().optional().openapi({ description: "a NeuroShard node's own setting: refused here (NOT_CONFIGURABLE), see the message" });

/**
 * `PATCH /neuroshard/api/v1/config`: the settings an operator may change at
 * run time, named as `GET config` shows them. The seed's node settings
 * (`training`, `resources`, ports) are not the router's: it trains nothing
 * (training is each NeuroShard miner's, set on the miner) and has no port of
 * its own, so a patch naming one is refused with NOT_CONFIGURABLE, the
 * setting named and the configurable ones listed.
 */
export const NeuroShardConfigPatchSchema = z
  .object({
    ...Object.fromEntries(NODE_ONLY_SETTINGS.map((k) => [k, nodeOnly])),
    router: z
      .object({
        default_timeout_s: Seconds,
        max_timeout_s: Seconds,
        consensus: z
          .object({ similarity_threshold: z.number().min(0).max(1) })
          .partial()
          .strict(),
        trial: z.object({ requests_per_window: Count, window_s: Count, max_tokens: Count, max_timeout_s: Seconds }).partial().strict(),
      })
      .partial()
      .strict(),
  })
  .partial()
  .strict()
  .openapi("NeuroShardConfigPatch", { example: { router: { default_timeout_s: 30 } } });
export type NeuroShardConfigPatch = z.infer<typeof NeuroShardConfigPatchSchema>;

export const NeuroShardConfigUpdatedSchema = z.object({ success: z.literal(true), updated: z.array(z.string()), restart_required: z.boolean() }).openapi("NeuroShardConfigUpdated");
