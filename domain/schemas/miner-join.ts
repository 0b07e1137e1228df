import { MinerProbationSchema } from "./miner.ts";
import { z } from "@hono/zod-openapi";
import { EvmAddressSchema } from "./common.ts";
import { MinerUrlSchema } from "./miner.ts";

/**
 * A miner's self-join and leave (POST /api/v1/miners/join, /leave): every
 * field the signed text names (domain/miners/join-message.ts) travels as
 * sent, so no field here has a default, and none may hold a comma or a line
 * break that would let one claim's text read as another's.
 */
const NonceSchema = z.string().regex(/^[0-9a-f]{32}$/, "32 lowercase hex characters, random, used once per address");
const IssuedAtSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, "an ISO 8601 UTC time as Date.prototype.toISOString() writes it")
  .openapi({ example: "2026-01-01T00:00:00.000Z" });
const SignatureSchema = z.string().regex(/^0x[0-9a-fA-F]{130}$/, "a 65-byte 0x-prefixed hex signature") as z.ZodType<`0x${string}`>;

export const MinerJoinRequestSchema = z
  .object({
    url: MinerUrlSchema.refine((u) => !/\s/.test(u), "must not contain whitespace"),
    evm_address: EvmAddressSchema,
    models: z
      .array(z.string().regex(/^[A-Za-z0-9._:/@+-]{1,128}$/, "1-128 letters, digits or . _ : / @ + -"))
      .min(1)
      .max(64),
    protocol: z.enum(["openai", "neuroshard"]),
    offchain: z.boolean(),
    max_concurrency: z.number().int().min(1).max(1024),
    credential: z.string().min(16).max(4096).openapi({ description: "The bearer credential the router presents to the node; the signed text holds its SHA-256" }),
    nonce: NonceSchema,
    issued_at: IssuedAtSchema,
    signature: SignatureSchema.openapi({ description: "The evm_address's EIP-191 signature over the join text (docs/architecture.md)" }),
  })
  .strict()
  .refine((m) => !(m.offchain && m.protocol === "neuroshard"), {
    path: ["offchain"],
    message: "off-chain delivery is an OpenAI-protocol extension; a NeuroShard miner takes the prompt inline",
  })
  .openapi("MinerJoinRequest");
export type MinerJoinRequest = z.infer<typeof MinerJoinRequestSchema>;

export const MinerLeaveRequestSchema = z
  .object({ evm_address: EvmAddressSchema, nonce: NonceSchema, issued_at: IssuedAtSchema, signature: SignatureSchema })
  .strict()
  .openapi("MinerLeaveRequest");
export type MinerLeaveRequest = z.infer<typeof MinerLeaveRequestSchema>;

export const MinerJoinResponseSchema = z
  .object({
    id: z.string(),
    evm_address: z.string(),
    lease_expires_at: z.string().openapi({ description: "Renew (join again, fresh nonce) before this; every lease_seconds / 3 is the node's rhythm" }),
    lease_seconds: z.number().int(),
    probation: MinerProbationSchema.openapi({
      description: "A new miner starts on probation: selected only beside established miners, never deciding a task, until MINER_PROBATION_RESULTS agreeing results in a row",
    }),
  })
  .openapi("MinerJoined");
export type MinerJoinResponse = z.infer<typeof MinerJoinResponseSchema>;

export const MinerLeaveResponseSchema = z.object({ id: z.string(), evm_address: z.string(), lease_expires_at: z.string() }).openapi("MinerLeft");

/** An operator's ban of an address: no miner under it is selected, and it cannot join. */
export const MinerBanRequestSchema = z
  .object({ evm_address: EvmAddressSchema, reason: z.string().trim().min(1).max(500) })
  .strict()
  .openapi("MinerBanRequest");
export type MinerBanRequest = z.infer<typeof MinerBanRequestSchema>;

export const MinerBanSchema = z
  .object({
    evm_address: z.string(),
    reason: z.string(),
    banned_at: z.string(),
  })
  .openapi("MinerBan");
export type MinerBan = z.infer<typeof MinerBanSchema>;
