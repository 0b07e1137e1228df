import { z } from "@hono/zod-openapi";
import { EvmAddressSchema, SessionIdSchema } from "./common.ts";

/** The most task stores one session's tasks may be spread over (see domain/sessions/shard-layout.ts). */
export const MAX_SHARDS = 16;

export const SessionModeSchema = z.enum(["ephemeral", "hybrid", "dedicated"]);

/**
 * Fields of the SessionV2 contract's session (name, metadata, owner, min and
 * max nodes, redundancy, mode) plus what the router needs to run it; what
 * they accept, without defaults (a patch leaves out what it keeps).
 */
const SessionFieldTypes = {
  name: z.string().trim().min(1).max(128),
  metadata: z.string().max(4096),
  /** null: no owner (a patch with `owner: null` clears it). */
  owner: EvmAddressSchema.nullable(),
  model: z.string().trim().min(1).max(128),
  min_nodes: z.number().int().min(1).max(64),
  max_nodes: z.number().int().min(1).max(64),
  redundancy: z.number().int().min(1).max(5),
  mode: SessionModeSchema,
  /** quorum: commit phase opens once a majority precommitted; all: once every miner did. */
  commit_policy: z.enum(["quorum", "all"]),
  /** consensus: stream only the agreed output; speed: stream the first result (redundancy > 1). */
  stream_policy: z.enum(["consensus", "speed"]),
  /**
   * What agreement a completion needs to be answered: best_effort answers
   * with the best agreeing group whatever its size (`consensus.status` says
   * how it stood); majority and unanimous fail the task with 502
   * `consensus_not_reached` below a majority of the redundancy, or below all
   * of it.
   */
  consensus_policy: z.enum(["best_effort", "majority", "unanimous"]),
  /** Private: v2/v3 payloads are stored only as ciphertext, keys issued to the owner and readers. */
  private: z.boolean(),
  /** Wallets besides the owner that may obtain this session's payload keys. */
  payload_readers: z.array(EvmAddressSchema).max(64),
  /**
   * How many Session objects hold this session's tasks: the session's own and
   * `shards - 1` more, each running the tasks routed to it. Raised, never
   * lowered: every shard keeps the tasks it holds.
   */
  shards: z.number().int().min(1).max(MAX_SHARDS),
  /**
   * Miner result signatures (EIP-191, `domain/miners/signed-call.ts`): off,
   * prefer (asked for and checked; an unsigned result is accepted and marked
   * so), or require (an unsigned or wrongly signed result is the miner's
   * failure). A signature that does not verify is refused under both.
   */
  signatures: z.enum(["off", "prefer", "require"]),
};

/** The fields with the defaults a new session gets. */
const SessionFields = {
  ...SessionFieldTypes,
  owner: SessionFieldTypes.owner.default(null),
  metadata: SessionFieldTypes.metadata.default(""),
  model: SessionFieldTypes.model.default("dev-model"),
  min_nodes: SessionFieldTypes.min_nodes.default(1),
  max_nodes: SessionFieldTypes.max_nodes.default(5),
  redundancy: SessionFieldTypes.redundancy.default(1),
  mode: SessionFieldTypes.mode.default("ephemeral"),
  commit_policy: SessionFieldTypes.commit_policy.default("quorum"),
  stream_policy: SessionFieldTypes.stream_policy.default("consensus"),
  consensus_policy: SessionFieldTypes.consensus_policy.default("best_effort"),
  private: SessionFieldTypes.private.default(false),
  payload_readers: SessionFieldTypes.payload_readers.default([]),
  shards: SessionFieldTypes.shards.default(1),
  signatures: SessionFieldTypes.signatures.default("prefer"),
};

export const SessionCreateSchema = z
  .object({ id: SessionIdSchema.optional(), ...SessionFields })
  .strict()
  .superRefine(checkNodes)
  .openapi("SessionCreate");

/** Any of a session's fields, and `active`; what it leaves out stays as it is. */
export const SessionUpdateSchema = z
  .object({ ...SessionFieldTypes, active: z.boolean() })
  .partial()
  .strict()
  .openapi("SessionUpdate");

export const SessionConfigSchema = z.object({
  ...SessionFields,
  active: z.boolean().default(true),
});
export type SessionConfig = z.infer<typeof SessionConfigSchema>;
export type SessionCreate = z.infer<typeof SessionCreateSchema>;
export type SessionUpdate = z.infer<typeof SessionUpdateSchema>;

export const SessionSchema = z
  .object({
    id: z.number().int(),
    ...SessionConfigSchema.shape,
    owner: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    task_count: z.number().int(),
  })
  .openapi("Session");
export type Session = z.infer<typeof SessionSchema>;

export function checkNodes(s: { min_nodes?: number; max_nodes?: number; redundancy?: number }, ctx: z.RefinementCtx) {
  if (s.min_nodes !== undefined && s.max_nodes !== undefined && s.min_nodes > s.max_nodes) {
    ctx.addIssue({ code: "custom", path: ["min_nodes"], message: "must not exceed max_nodes" });
  }
  if (s.redundancy !== undefined && s.max_nodes !== undefined && s.redundancy > s.max_nodes) {
    ctx.addIssue({ code: "custom", path: ["redundancy"], message: "must not exceed max_nodes" });
  }
}
