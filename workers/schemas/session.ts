import { z } from "@hono/zod-openapi";
import { EvmAddressSchema, SessionIdSchema } from "./common";

export const SessionModeSchema = z.enum(["ephemeral", "hybrid", "dedicated"]);

/**
 * Fields of the SessionV2 contract's session (name, metadata, owner, min and
 * max nodes, redundancy, mode) plus what the router needs to run it.
 */
const SessionFields = {
  name: z.string().trim().min(1).max(128),
  metadata: z.string().max(4096).default(""),
  owner: EvmAddressSchema.optional(),
  model: z.string().trim().min(1).max(128).default("dev-model"),
  min_nodes: z.number().int().min(1).max(64).default(1),
  max_nodes: z.number().int().min(1).max(64).default(5),
  redundancy: z.number().int().min(1).max(5).default(1),
  mode: SessionModeSchema.default("ephemeral"),
  /** quorum: commit phase opens once a majority precommitted; all: once every miner did. */
  commit_policy: z.enum(["quorum", "all"]).default("quorum"),
  /** consensus: stream only the agreed output; speed: stream the first result (redundancy > 1). */
  stream_policy: z.enum(["consensus", "speed"]).default("consensus"),
  /** Private: v2/v3 payloads are stored only as ciphertext, keys issued to the owner and readers. */
  private: z.boolean().default(false),
  /** Wallets besides the owner that may obtain this session's payload keys. */
  payload_readers: z.array(EvmAddressSchema).max(64).default([]),
};

export const SessionCreateSchema = z
  .object({ id: SessionIdSchema.optional(), ...SessionFields })
  .strict()
  .superRefine(checkNodes)
  .openapi("SessionCreate");

export const SessionUpdateSchema = z
  .object({
    name: SessionFields.name.optional(),
    metadata: z.string().max(4096).optional(),
    owner: EvmAddressSchema.optional(),
    model: z.string().trim().min(1).max(128).optional(),
    min_nodes: z.number().int().min(1).max(64).optional(),
    max_nodes: z.number().int().min(1).max(64).optional(),
    redundancy: z.number().int().min(1).max(5).optional(),
    mode: SessionModeSchema.optional(),
    commit_policy: z.enum(["quorum", "all"]).optional(),
    stream_policy: z.enum(["consensus", "speed"]).optional(),
    private: z.boolean().optional(),
    payload_readers: z.array(EvmAddressSchema).max(64).optional(),
    active: z.boolean().optional(),
  })
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

export function checkNodes(
  s: { min_nodes?: number; max_nodes?: number; redundancy?: number },
  ctx: z.RefinementCtx,
) {
  if (s.min_nodes !== undefined && s.max_nodes !== undefined && s.min_nodes > s.max_nodes) {
    ctx.addIssue({ code: "custom", path: ["min_nodes"], message: "must not exceed max_nodes" });
  }
  if (s.redundancy !== undefined && s.max_nodes !== undefined && s.redundancy > s.max_nodes) {
    ctx.addIssue({ code: "custom", path: ["redundancy"], message: "must not exceed max_nodes" });
  }
}
