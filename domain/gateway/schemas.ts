import { z } from "@hono/zod-openapi";
import { DEFAULT_KEY_SCOPES, KeyScopeSchema, KeyScopesSchema } from "./key-scopes.ts";

export const CustomerIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "lowercase letters, digits and '-', at most 40");

export const CustomerCreateSchema = z
  .object({
    id: CustomerIdSchema,
    name: z.string().trim().min(1).max(200),
    billing: z.enum(["prepaid", "postpaid"]).default("prepaid"),
    balance_micros: z.number().int().min(0).default(0).openapi({ description: "prepaid balance, in millionths of a US dollar" }),
  })
  .strict()
  .openapi("CustomerCreate");
export type CustomerCreate = z.infer<typeof CustomerCreateSchema>;

/** A customer as the directory lists it (GET /v1/admin/customers); its balance and keys are its Ledger's. */
export const CustomerEntrySchema = z.object({ id: z.string(), name: z.string(), billing: z.enum(["prepaid", "postpaid"]), created_at: z.string() }).openapi("CustomerEntry");
export type CustomerEntry = z.infer<typeof CustomerEntrySchema>;

export const KeyIssueSchema = z
  .object({
    name: z.string().trim().min(1).max(100).default("default"),
    /** Model aliases this key may use; ["*"] = all. */
    allowed_models: z.array(z.string().min(1).max(64)).min(1).max(64).default(["*"]),
    requests_per_minute: z.number().int().min(1).max(100_000).default(60),
    tokens_per_minute: z.number().int().min(1).max(100_000_000).default(200_000),
    spend_limit_micros: z.number().int().min(0).nullable().default(null),
    scopes: KeyScopesSchema.default(DEFAULT_KEY_SCOPES),
  })
  .strict()
  .openapi("KeyIssue");
export type KeyIssue = z.infer<typeof KeyIssueSchema>;

/** A rotation may set the key's scopes anew; without them they are kept. */
export const KeyRotateSchema = z.object({ scopes: KeyScopesSchema.optional() }).strict().openapi("KeyRotate");
export type KeyRotate = z.infer<typeof KeyRotateSchema>;

export const KeyPublicSchema = z
  .object({
    id: z.string(),
    customer_id: z.string(),
    name: z.string(),
    prefix: z.string(),
    allowed_models: z.array(z.string()),
    requests_per_minute: z.number().int(),
    tokens_per_minute: z.number().int(),
    spend_limit_micros: z.number().int().nullable(),
    spent_micros: z.number().int().openapi({ description: "what the key has spent: usage billed, and the wallet's sends (with their fee) and stakes" }),
    scopes: z.array(KeyScopeSchema),
    created_at: z.string(),
    rotated_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi("ApiKey");
export type KeyPublic = z.infer<typeof KeyPublicSchema>;

export const UsageRecordSchema = z
  .object({
    id: z.number().int(),
    request_id: z.string(),
    key_id: z.string(),
    model: z.string(),
    router_pool: z.string(),
    session_id: z.number().int().nullable(),
    task_id: z.number().int().nullable(),
    prompt_tokens: z.number().int(),
    completion_tokens: z.number().int(),
    latency_ms: z.number().int(),
    status: z.enum(["ok", "failed"]),
    error_code: z.string().nullable(),
    cost_micros: z.number().int(),
    at: z.string(),
  })
  .openapi("UsageRecord");
export type UsageRecord = z.infer<typeof UsageRecordSchema>;

export const BalanceSchema = z
  .object({ customer_id: z.string(), billing: z.enum(["prepaid", "postpaid"]), balance_micros: z.number().int(), spent_micros: z.number().int() })
  .openapi("Balance");
export type Balance = z.infer<typeof BalanceSchema>;
/** A customer's balance as the admin reads it, with the currency its micros are millionths of (LEDGER_CURRENCY): the console formats it. */
export const AdminBalanceSchema = BalanceSchema.extend({ currency: z.string() }).openapi("AdminBalance");
export type AdminBalance = z.infer<typeof AdminBalanceSchema>;
