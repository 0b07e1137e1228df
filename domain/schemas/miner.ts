import { z } from "@hono/zod-openapi";
import { CustomerIdSchema } from "../gateway/schemas.ts";
import { EvmAddressSchema } from "./common.ts";
import { NeuroShardNodeReportSchema, NeuroShardTrainingReportSchema } from "./neuroshard.ts";

export const MinerUrlSchema = z
  .string()
  .url()
  .max(2048)
  .refine((u) => /^https?:\/\//i.test(u), "must be an http(s) URL");

/**
 * The proof that the miner holds its `evm_address`'s key: the nonce of a
 * challenge from `POST /api/v1/admin/miners/challenge` and the address's
 * EIP-191 signature over that challenge's message (domain/miners/address-proof.ts).
 */
export const AddressProofSchema = z
  .object({
    nonce: z.string().regex(/^[0-9a-f]{32}$/, "the nonce of a challenge from POST /api/v1/admin/miners/challenge"),
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "a 65-byte 0x-prefixed hex signature") as z.ZodType<`0x${string}`>,
  })
  .strict()
  .openapi("AddressProof");
export type AddressProof = z.infer<typeof AddressProofSchema>;

/** A registration challenge: what to sign, and until when the registry accepts it. */
export const AddressChallengeSchema = z
  .object({
    nonce: z.string(),
    message: z.string().openapi({ description: "The text to sign (EIP-191 personal_sign) with the evm_address's key" }),
    router: z.string().openapi({ description: "The router's signer address, which the message names" }),
    issued_at: z.string(),
    expires_at: z.string(),
  })
  .openapi("AddressChallenge");
export const AddressChallengeRequestSchema = z.object({ url: MinerUrlSchema, evm_address: EvmAddressSchema }).strict().openapi("AddressChallengeRequest");

/** What a miner's fields accept, without defaults (a patch leaves out what it keeps). */
const MinerFieldTypes = {
  name: z.string().trim().min(1).max(128),
  url: MinerUrlSchema,
  credential: z.string().min(1).max(4096),
  evm_address: EvmAddressSchema,
  models: z.array(z.string().trim().min(1).max(128)).min(1).max(64),
  max_concurrency: z.number().int().min(1).max(1024),
  /** Resolves payload URNs itself and may deliver results off-chain (POST /api/v3/offchain/result). */
  offchain: z.boolean(),
  /** How the router speaks to it: an OpenAI-compatible server, or a NeuroShard node (`POST /api/v1/inference`). */
  protocol: z.enum(["openai", "neuroshard"]),
  /** The gateway customer whose Ledger the miner's rewards are credited to; null (or absent): it earns nothing. */
  payout_account: CustomerIdSchema.nullable(),
};

export const MinerRegisterSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/, "letters, digits, '.', '_' and '-', at most 64")
      .optional(),
    ...MinerFieldTypes,
    name: MinerFieldTypes.name.optional(),
    evm_address: MinerFieldTypes.evm_address.optional(),
    models: MinerFieldTypes.models.default(["dev-model"]),
    max_concurrency: MinerFieldTypes.max_concurrency.default(4),
    offchain: MinerFieldTypes.offchain.default(false),
    protocol: MinerFieldTypes.protocol.default("openai"),
    payout_account: MinerFieldTypes.payout_account.default(null),
    address_proof: AddressProofSchema.optional(),
  })
  .strict()
  .refine((m) => !(m.offchain && m.protocol === "neuroshard"), {
    path: ["offchain"],
    message: "off-chain delivery is an OpenAI-protocol extension; a NeuroShard miner takes the prompt inline",
  })
  .refine((m) => (m.evm_address === undefined) === (m.address_proof === undefined), {
    path: ["address_proof"],
    message: "an evm_address is registered with its proof (and a proof only with an evm_address)",
  })
  .openapi("MinerRegister");
export type MinerRegister = z.infer<typeof MinerRegisterSchema>;

/**
 * Any of a miner's fields (`evm_address: null` removes its address); what it
 * leaves out stays as it is. A new `evm_address`, or a new `url` of a miner
 * that has an address, carries `address_proof` for the two. `benched: true` takes the miner out of every
 * session's pool until `benched: false`, whatever its health probes say. `probation: true` puts it on
 * probation with MINER_PROBATION_RESULTS agreeing results to go (`domain/miners/probation.ts`);
 * `probation: false` establishes it at once.
 */
export const MinerUpdateSchema = z
  .object({
    ...MinerFieldTypes,
    evm_address: MinerFieldTypes.evm_address.nullable(),
    benched: z.boolean(),
    probation: z.boolean().openapi({ description: "true: on probation, MINER_PROBATION_RESULTS agreeing results to go; false: established at once" }),
    address_proof: AddressProofSchema,
  })
  .partial()
  .strict()
  .refine((m) => !m.evm_address || m.address_proof !== undefined, { path: ["address_proof"], message: "a new evm_address is set with its proof" })
  .openapi("MinerUpdate");
export type MinerUpdate = z.infer<typeof MinerUpdateSchema>;

/** A miner's probation (`domain/miners/probation.ts`): a probationary miner is selected only beside established ones, never as a task's majority. */
export const MinerProbationSchema = z
  .object({
    on_probation: z.boolean(),
    agreeing_results_needed: z
      .number()
      .int()
      .min(0)
      .openapi({ description: "agreeing results still needed to leave probation (a disagreeing one starts the count again); 0 when established" }),
  })
  .openapi("MinerProbation");

/** What routes show of a miner. The credential never appears here. */
export const MinerPublicSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    url: z.string(),
    evm_address: z.string().nullable(),
    models: z.array(z.string()),
    max_concurrency: z.number().int(),
    offchain: z.boolean(),
    protocol: MinerFieldTypes.protocol,
    payout_account: z.string().nullable(),
    source: z.enum(["admin", "joined"]).openapi({ description: "admin: registered by an operator; joined: joined by itself (POST /api/v1/miners/join)" }),
    lease_expires_at: z
      .string()
      .nullable()
      .openapi({ description: "A joined miner's lease: past it, it gets no tasks until it renews. Null for an admin-registered miner (no lease)" }),
    /** A NeuroShard miner's last status report (role, layers, training), as its health check read it; null for others, or before. */
    node: NeuroShardNodeReportSchema.nullable(),
    /** A NeuroShard miner's last `GET /api/training/global` report, as its health check read it; null when it sent none. */
    training: NeuroShardTrainingReportSchema.nullable(),
    healthy: z.boolean().openapi({ description: "false: its last health probe failed; it gets no tasks until one passes" }),
    benched: z.boolean().openapi({ description: "true: an operator benched it (PATCH benched); it gets no tasks until unbenched" }),
    probation: MinerProbationSchema,
    last_health_check_at: z.string().nullable(),
    last_error: z.string().nullable(),
    reputation: z.number(),
    latency_ms: z.number().nullable(),
    in_flight: z.number().int(),
    stats: z.object({
      agreed: z.number().int(),
      disagreed: z.number().int(),
      failed: z.number().int(),
      timed_out: z.number().int(),
      /** Failures the request caused (a prompt the model refused, a deadline no miner could meet): never held against the miner. */
      request_failed: z.number().int(),
    }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Miner");
export type MinerPublic = z.infer<typeof MinerPublicSchema>;

export type MinerProtocol = z.infer<typeof MinerFieldTypes.protocol>;

/** A miner as the dispatcher needs it: where, with what credential, how it speaks (OpenAI when absent), and how fast it usually answers (ms, when measured). */
export type MinerTarget = {
  id: string;
  url: string;
  credential: string;
  offchain?: boolean;
  protocol?: MinerProtocol;
  latencyMs?: number | null;
  /** The miner's registered EVM address: what its result signatures are checked against (`miners/result-signature.ts`). */
  address?: string | null;
  /** The gateway customer credited with the miner's rewards (durable-objects/session/pending-rewards.ts); none: it earns nothing. */
  payoutAccount?: string | null;
  /** On probation when picked (`miners/probation.ts`): its answer counts only beside an established miner's. */
  probation?: boolean;
};

/** Whether a miner is offered tasks: its last probe passed, no operator benched it, and its lease (a joined miner's) has not lapsed. */
export const servesTasks = (m: Pick<MinerPublic, "healthy" | "benched" | "lease_expires_at">) =>
  m.healthy && !m.benched && (m.lease_expires_at === null || Date.parse(m.lease_expires_at) > Date.now());
