import { z } from "@hono/zod-openapi";
import { TierSchema } from "../work/tiers.ts";
import { RequestIdSchema, SessionIdSchema } from "./common.ts";
import { PrecommitMillisSchema, PrecommitSecondsSchema, TimeoutMillisSchema, TimeoutSecondsSchema } from "./timeouts.ts";

/** Shared pieces of the delegate, validate and factcheck request bodies (the Web2 API Reference). */

const seconds = TimeoutSecondsSchema.max(3600);
const precommitSeconds = PrecommitSecondsSchema.max(3600);
const millis = TimeoutMillisSchema.max(3_600_000);
const precommitMillis = PrecommitMillisSchema.max(3_600_000);

export const ModelPolicySchema = z.object({ max_tokens: z.number().int().min(1).max(32_768).optional(), temperature: z.number().min(0).max(2).optional() }).strict();

/** v3: `replicas` or `consensus.replicas`, each 1, 3 or 5. */
const Replicas = z.union([z.literal(1), z.literal(3), z.literal(5)], { error: "must be 1, 3 or 5" });
export const ReplicaFields = {
  replicas: Replicas.optional(),
  consensus: z.object({ replicas: Replicas.optional() }).optional(),
};

export function checkTimeouts(path: string[], timeout: number | undefined, precommit: number | undefined, ctx: z.RefinementCtx) {
  if (timeout !== undefined && precommit !== undefined && timeout <= precommit) {
    ctx.addIssue({ code: "custom", path, message: "must exceed the precommit timeout" });
  }
}

export const DelegatePolicySchema = z
  .object({ tier: TierSchema.optional(), redundancy: z.number().int().min(1).max(5).optional(), timeout: seconds.optional(), precommit_timeout: precommitSeconds.optional() })
  .strict()
  .superRefine((p, ctx) => checkTimeouts(["timeout"], p.timeout, p.precommit_timeout, ctx));

export const DelegateInputSchema = z.object({
  kind: z.enum(["text", "url"]),
  payload: z.string().min(1).max(100_000),
});

const delegateFields = {
  request_id: RequestIdSchema.optional(),
  task_request_input: z.string().min(1).max(100_000).optional(),
  objective: z.string().min(1).max(10_000).optional(),
  input: DelegateInputSchema.optional(),
  fetch_web: z.boolean().default(false),
  policy: DelegatePolicySchema.default({}),
  model_policy: ModelPolicySchema.default({}),
};

function checkDelegate(b: { task_request_input?: string | undefined; objective?: string | undefined; input?: unknown }, ctx: z.RefinementCtx) {
  if (b.task_request_input === undefined && b.objective === undefined) {
    ctx.addIssue({ code: "custom", path: ["objective"], message: "give objective (with input) or task_request_input" });
  }
  if (b.task_request_input !== undefined && b.objective !== undefined) {
    ctx.addIssue({ code: "custom", path: ["task_request_input"], message: "give objective or task_request_input, not both" });
  }
}

export const DelegateRequestSchema = z
  .object({ session_id: SessionIdSchema.optional(), ...delegateFields })
  .superRefine(checkDelegate)
  .openapi("DelegateRequest");
export type DelegateRequest = z.infer<typeof DelegateRequestSchema>;

export const DelegateV3RequestSchema = z
  .object({ ...delegateFields, ...ReplicaFields })
  .superRefine(checkDelegate)
  .openapi("DelegateV3Request");
export type DelegateV3Request = z.infer<typeof DelegateV3RequestSchema>;

export const ClaimSchema = z.object({
  type: z.string().min(1).max(128),
  description: z.string().max(10_000).default(""),
  output: z.string().min(1).max(100_000),
});

export const ValidatePolicySchema = z
  .object({
    tier: TierSchema.optional(),
    redundancy: z.number().int().min(1).max(5).optional(),
    rules: z.array(z.string().min(1).max(1000)).max(50).default([]),
    timeout_ms: millis.optional(),
    precommit_timeout_ms: precommitMillis.optional(),
  })
  .strict()
  .superRefine((p, ctx) => checkTimeouts(["timeout_ms"], p.timeout_ms, p.precommit_timeout_ms, ctx));

const validateFields = {
  request_id: RequestIdSchema.optional(),
  claim: ClaimSchema,
  policy: ValidatePolicySchema.default({ rules: [] }),
  model_policy: ModelPolicySchema.default({}),
};

export const ValidateRequestSchema = z.object({ session_id: SessionIdSchema.optional(), ...validateFields }).openapi("ValidateRequest");
export type ValidateRequest = z.infer<typeof ValidateRequestSchema>;
export const ValidateV3RequestSchema = z.object({ ...validateFields, ...ReplicaFields }).openapi("ValidateV3Request");
export type ValidateV3Request = z.infer<typeof ValidateV3RequestSchema>;

export const FactcheckRequestSchema = z
  .object({
    session_id: SessionIdSchema.optional(),
    request_id: RequestIdSchema.optional(),
    mode: z.enum(["standard", "realtime"]).default("standard"),
    claim: z.object({ type: z.string().min(1).max(128), statement: z.string().min(1).max(10_000) }),
    policy: z
      .object({
        tier: TierSchema.optional(),
        redundancy: z.number().int().min(1).max(5).optional(),
        task_redundancy: z.number().int().min(1).max(3).default(1),
        timeout_ms: millis.optional(),
        precommit_timeout: precommitSeconds.optional().openapi({ description: "seconds" }),
        precommit_timeout_ms: precommitMillis.optional(),
      })
      .strict()
      .superRefine((p, ctx) =>
        checkTimeouts(["timeout_ms"], p.timeout_ms, p.precommit_timeout_ms ?? (p.precommit_timeout === undefined ? undefined : p.precommit_timeout * 1000), ctx),
      )
      .default({ task_redundancy: 1 }),
    model_policy: ModelPolicySchema.default({}),
  })
  .openapi("FactcheckRequest");
export type FactcheckRequest = z.infer<typeof FactcheckRequestSchema>;

export const VerdictResponseSchema = z
  .object({
    request_id: z.string().nullable(),
    session_id: z.number().int(),
    task_ids: z.array(z.number().int()),
    verdict: z.enum(["VALID", "INVALID", "RETRY", "NEEDS_SPEC"]),
    confidence: z.number(),
    reasons: z.array(z.string()),
    advice: z.string(),
    evidence: z.array(z.string()),
    agreement: z.object({ runs: z.number().int(), agreeing: z.number().int(), required: z.number().int() }),
    runs: z.array(z.record(z.string(), z.unknown())).optional(),
  })
  .passthrough()
  .openapi("Verdict");
