import { z } from "@hono/zod-openapi";

/** Session ids are the on-chain numeric ids; paths carry them as strings. */
export const SessionIdSchema = z.coerce
  .number({ error: "must be a non-negative integer" })
  .int("must be a non-negative integer")
  .min(0, "must be a non-negative integer")
  .max(Number.MAX_SAFE_INTEGER)
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

export const EvmAddressSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address");

/** A client's idempotency key. */
export const RequestIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, "1-128 letters, digits, '.', '_', ':' or '-'");
