import { z } from "zod";
import { BINDING_NAME, json, parsed, positiveInt, type SectionContext, type WithBindings } from "./var-readers.ts";

/**
 * PAYLOAD_BACKENDS: the R2 buckets payloads may live in. `index` is the URN's
 * backend_index, `binding` the R2 binding in wrangler.toml.
 */
const PayloadBackendsSchema = z
  .array(z.object({ index: z.number().int().min(0).max(999), binding: z.string().regex(BINDING_NAME), bucket: z.string().min(3).max(63) }))
  .min(1)
  .refine((list) => new Set(list.map((b) => b.index)).size === list.length, "backend indexes must be unique")
  .default([{ index: 0, binding: "PAYLOADS", bucket: "cortensor-payloads" }]);

/** Payloads: where they are stored (R2), how large they may be and how long they are kept. */
export const payloadVars = {
  PAYLOAD_BACKENDS: json(PayloadBackendsSchema, '[{"index": 0, "binding": "PAYLOADS", "bucket": "cortensor-payloads"}]'),
  PAYLOAD_WRITE_BACKEND: parsed(z.coerce.number<string>().int().min(0).default(0)),
  MAX_PAYLOAD_BYTES: positiveInt(262_144),
  PAYLOAD_RETENTION_S: positiveInt(7 * 24 * 3600),
};

export type Backend = z.infer<typeof PayloadBackendsSchema>[number] & { r2: R2Bucket };

/** Duck-typed: workerd exposes no R2Bucket class to test a binding against. */
function isR2Bucket(value: unknown): value is R2Bucket {
  return typeof value === "object" && value !== null && "get" in value && "put" in value && "head" in value && "delete" in value;
}

export function payloadSection(e: WithBindings<typeof payloadVars>, { problems }: SectionContext) {
  // The R2 bindings PAYLOAD_BACKENDS names must exist.
  const payloadBackends: Backend[] = [];
  for (const b of e.PAYLOAD_BACKENDS) {
    const r2 = e[b.binding];
    if (isR2Bucket(r2)) payloadBackends.push({ ...b, r2 });
    else problems.push(`PAYLOAD_BACKENDS: backend ${b.index} names binding ${b.binding}, which is not an R2 bucket binding`);
  }
  if (!e.PAYLOAD_BACKENDS.some((b) => b.index === e.PAYLOAD_WRITE_BACKEND)) {
    problems.push(`PAYLOAD_WRITE_BACKEND: PAYLOAD_BACKENDS has no backend ${e.PAYLOAD_WRITE_BACKEND}`);
  }
  return {
    maxPayloadBytes: e.MAX_PAYLOAD_BYTES,
    payloadRetentionS: e.PAYLOAD_RETENTION_S,
    payloadWriteBackend: e.PAYLOAD_WRITE_BACKEND,
    /** The R2 buckets payloads may live in (PAYLOAD_BACKENDS, each with its binding). */
    payloadBackends,
  };
}
