import { z } from "@hono/zod-openapi";

const ID_MESSAGE = "must be a non-negative integer";

/**
 * Session ids are the on-chain numeric ids: a non-negative integer, or the
 * decimal string of one ("12"). Nothing is coerced: "", null, booleans,
 * arrays, whitespace, hex, signs and exponents are refused, not read as 0 or 1.
 */
export const SessionIdSchema = z
  .union(
    [
      z.number({ error: ID_MESSAGE }).int(ID_MESSAGE).min(0, ID_MESSAGE).max(Number.MAX_SAFE_INTEGER, ID_MESSAGE),
      z
        .string()
        .regex(/^\d{1,15}$/, ID_MESSAGE)
        .transform(Number),
    ],
    { error: ID_MESSAGE },
  )
  .openapi({ example: 0 });

export const SessionIdParamSchema = z.object({
  sessionId: z
    .string()
    .regex(/^\d{1,15}$/, "must be a non-negative integer")
    .transform(Number)
    .openapi({ param: { name: "sessionId", in: "path" }, example: "0" }),
});

export const TaskIdParamSchema = SessionIdParamSchema.extend({
  taskId: z
    .string()
    .regex(/^\d{1,15}$/, "must be a non-negative integer")
    .transform(Number)
    .openapi({ param: { name: "taskId", in: "path" }, example: "0" }),
});

export const EvmAddressSchema = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address");

/** A client's idempotency key. */
export const RequestIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, "1-128 letters, digits, '.', '_', ':' or '-'");

/** An integer query parameter (`?limit=10`) within bounds, with its default when absent. */
export const queryInt = (name: string, bounds: { min: number; max: number; fallback: number }) =>
  z.coerce
    .number<string>()
    .int()
    .min(bounds.min)
    .max(bounds.max)
    .default(bounds.fallback)
    .openapi({ param: { name, in: "query" }, example: bounds.fallback });
