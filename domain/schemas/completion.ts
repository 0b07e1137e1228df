import { z } from "@hono/zod-openapi";
import { RequestIdSchema, SessionIdSchema } from "./common.ts";
import { ConsensusStatusSchema } from "./consensus-status.ts";
import { MIN_PRECOMMIT_TIMEOUT_S, MIN_TIMEOUT_S, PrecommitSecondsSchema, TimeoutSecondsSchema } from "./timeouts.ts";

export const ChatMessageSchema = z.object({
  role: z.enum(["system", "user", "assistant", "tool", "developer"]),
  content: z.string().max(1_000_000),
  name: z.string().max(128).optional(),
});

export const CompletionRequestSchema = z
  .object({
    session_id: SessionIdSchema.optional(),
    prompt: z.string().min(1, "must not be empty").max(1_000_000).optional(),
    messages: z.array(ChatMessageSchema).min(1).max(256).optional(),
    model: z.string().max(128).optional(),
    stream: z.boolean().default(false),
    timeout: TimeoutSecondsSchema.optional().openapi({ description: `seconds, at least ${MIN_TIMEOUT_S}; must exceed precommit_timeout` }),
    precommit_timeout: PrecommitSecondsSchema.optional().openapi({ description: `seconds, at least ${MIN_PRECOMMIT_TIMEOUT_S}` }),
    max_tokens: z.number().int().min(1).max(32_768).optional(),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.number().int().min(1).max(100_000).optional(),
    stop: z.union([z.string().max(256), z.array(z.string().max(256)).max(4)]).optional(),
    request_id: RequestIdSchema.optional(),
  })
  .superRefine((body, ctx) => {
    if (body.prompt === undefined && body.messages === undefined) {
      ctx.addIssue({ code: "custom", path: ["prompt"], message: "either prompt or messages is required" });
    }
    if (body.prompt !== undefined && body.messages !== undefined) {
      ctx.addIssue({ code: "custom", path: ["messages"], message: "give prompt or messages, not both" });
    }
    if (body.timeout !== undefined && body.precommit_timeout !== undefined && body.timeout <= body.precommit_timeout) {
      ctx.addIssue({ code: "custom", path: ["timeout"], message: "must exceed precommit_timeout" });
    }
  })
  .openapi("CompletionRequest", {
    example: { prompt: "Hello, how are you?", stream: false, timeout: 60 },
  });
export type CompletionRequest = z.infer<typeof CompletionRequestSchema>;

/** What the router sends to every miner of a task. */
export const MinerRequestSchema = z.object({
  kind: z.enum(["completion", "chat"]),
  model: z.string(),
  prompt: z.string().optional(),
  messages: z.array(ChatMessageSchema).optional(),
  max_tokens: z.number().int().optional(),
  temperature: z.number().optional(),
  top_p: z.number().optional(),
  top_k: z.number().int().optional(),
  stop: z.union([z.string(), z.array(z.string())]).optional(),
  response_format: z.object({ type: z.literal("json_object") }).optional(),
});
export type MinerRequest = z.infer<typeof MinerRequestSchema>;

export const MinerRecordSchema = z.object({
  miner: z.string(),
  slot: z.number().int(),
  status: z.string(),
  latency_ms: z.number().nullable(),
  precommit_hash: z.string().nullable(),
  agreed: z.boolean().nullable(),
  similarity: z.number().nullable(),
  /** Failed or timed out: `miner` counts against the miner, `request` was the request's doing (a prompt it refused, a deadline too short). */
  fault: z.enum(["miner", "request"]).nullable(),
  /** The result's signature (session setting `signatures`): valid, or unsigned (accepted under `prefer`); null when not asked or no result. */
  signature: z.enum(["valid", "unsigned"]).nullable().optional(),
  /** Present (true) when the miner was on probation: its answer counted only beside an established miner's (domain/miners/probation.ts). */
  probation: z.literal(true).optional(),
});
export type MinerRecord = z.infer<typeof MinerRecordSchema>;

export const UsageSchema = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
});

export { ConsensusStatusSchema, type ConsensusStatus } from "./consensus-status.ts";

export const ConsensusSchema = z
  .object({
    status: ConsensusStatusSchema,
    redundancy: z.number().int(),
    quorum: z.number().int(),
    agreed: z.number().int(),
    reached: z.boolean().openapi({ description: "a majority of the redundancy agreed" }),
    threshold: z.number(),
    embedding: z.string(),
    /** The other answers (outvoted ones, or under `no_agreement` the equally supported ones): each output's precommit hash, the miners that gave it, its similarity to the answer. */
    dissent: z.array(z.object({ hash: z.string(), miners: z.array(z.string()), similarity: z.number() })),
  })
  .openapi("Consensus");
export type Consensus = z.infer<typeof ConsensusSchema>;

export const CompletionResponseSchema = z
  .object({
    id: z.string(),
    object: z.enum(["text_completion", "chat.completion"]),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        text: z.string().optional(),
        message: z.object({ role: z.literal("assistant"), content: z.string() }).optional(),
        finish_reason: z.string().nullable(),
        logprobs: z.null().optional(),
      }),
    ),
    usage: UsageSchema,
    session_id: z.number().int(),
    task_id: z.number().int(),
    request_id: z.string().nullable(),
    consensus: ConsensusSchema,
    miners: z.array(MinerRecordSchema),
    /** Where this task's signed receipt is read (GET, router key): checkable offline with `npm run verify`. */
    receipt_url: z.string().optional(),
    /** v2/v3: where the prompt and the agreed result are stored. */
    prompt_urn: z.string().optional(),
    result_urn: z.string().nullable().optional(),
    /** v2/v3: the session is private (payloads stored as ciphertext). */
    encrypted: z.boolean().optional(),
    /** Every run's output, for routes that aggregate runs themselves (validate, factcheck). */
    runs: z.array(z.object({ miner: z.string(), slot: z.number().int(), status: z.string(), output: z.string().nullable() })).optional(),
  })
  .openapi("Completion");
export type CompletionResponse = z.infer<typeof CompletionResponseSchema>;
