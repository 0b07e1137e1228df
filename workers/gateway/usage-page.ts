import { z } from "@hono/zod-openapi";
import type { Env } from "../env";
import type { ApiError } from "../../domain/errors";
import { ledgerStub } from "../../domain/objects/stubs";
import { UsageRecordSchema } from "../../domain/gateway/schemas";

/** A page of usage records: a time window and a cursor (the last record's id). */
export const UsageQuerySchema = z.object({
  from: z.iso.datetime().optional(),
  to: z.iso.datetime().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.coerce.number().int().min(1).optional().openapi({ description: "record id to page from" }),
});

export const UsagePageSchema = z.object({ usage: z.array(UsageRecordSchema), next_before: z.number().int().nullable() });

/** One customer's usage records, newest first; `notFound` when the Ledger has no such customer. */
export async function usagePage(env: Env, customerId: string, q: z.infer<typeof UsageQuerySchema>, notFound: () => ApiError): Promise<z.infer<typeof UsagePageSchema>> {
  const usage = await ledgerStub(env, customerId).usage({
    limit: q.limit,
    ...(q.from ? { from: Date.parse(q.from) } : {}),
    ...(q.to ? { to: Date.parse(q.to) } : {}),
    ...(q.before ? { before: q.before } : {}),
  });
  if (!usage) throw notFound();
  const last = usage.at(-1);
  return { usage, next_before: usage.length === q.limit && last ? last.id : null };
}
