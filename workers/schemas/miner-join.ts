import { z } from "@hono/zod-openapi";
import { EvmAddressSchema } from "./common.ts";

/**
 * A miner's self-join and leave (issue 25's shared spec; the signed texts are
 * workers/miners/join-message.ts). The signature authenticates the request:
 * it must recover to `evm_address` over the message built from these fields.
 */
const Nonce = z.string().regex(/^[0-9a-f]{32}$/, "32 lowercase hex characters, random, single use");
const IssuedAt = z.iso.datetime({ message: "an ISO 8601 UTC time (Date.prototype.toISOString())" });
const Signature = z.string().regex(/^0x[0-9a-fA-F]{130}$/, "a 65-byte 0x-prefixed hex signature") as z.ZodType<`0x${string}`>;

export const MinerJoinRequestSchema = z
  .object({
    url: z
      .string()
      .url()
      .max(2048)
      .refine((u) => /^https?:\/\//i.test(u), "must be an http(s) URL"),
    evm_address: EvmAddressSchema,
    models: z.array(z.string().trim().min(1).max(128)).min(1).max(64),
    protocol: z.enum(["openai", "neuroshard"]),
    offchain: z.boolean(),
    max_concurrency: z.number().int().min(1).max(1024),
    /** What the router presents as `Authorization: Bearer` on every call to the miner; the signed text carries its SHA-256. */
    credential: z.string().min(16).max(4096),
    nonce: Nonce,
    issued_at: IssuedAt,
    signature: Signature,
  })
  .strict()
  .openapi("MinerJoinRequest");
export type MinerJoinRequest = z.infer<typeof MinerJoinRequestSchema>;

export const MinerLeaveRequestSchema = z.object({ evm_address: EvmAddressSchema, nonce: Nonce, issued_at: IssuedAt, signature: Signature }).strict().openapi("MinerLeaveRequest");
export type MinerLeaveRequest = z.infer<typeof MinerLeaveRequestSchema>;

export const MinerJoinResponseSchema = z
  .object({
    id: z.string(),
    evm_address: z.string(),
    lease_expires_at: z.string(),
    lease_seconds: z.number().int().positive(),
    probation: z.object({ on_probation: z.boolean(), agreeing_results: z.number().int(), required: z.number().int() }),
  })
  .openapi("MinerJoinResponse");
export type MinerJoinResponse = z.infer<typeof MinerJoinResponseSchema>;
