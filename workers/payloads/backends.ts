import { z } from "zod";
import { ApiError } from "../http/errors";
import type { Env } from "../env";
import type { PayloadUrn } from "./urn";

/**
 * The R2 buckets payloads may live in. `PAYLOAD_BACKENDS` (a var) lists them
 * as JSON: `[{"index": 0, "binding": "PAYLOADS", "bucket": "cortensor-payloads"}]`;
 * `index` is the URN's backend_index, `binding` the R2 binding in wrangler.toml.
 */
export const BackendsSchema = z
  .array(z.object({ index: z.number().int().min(0).max(999), binding: z.string().regex(/^[A-Z][A-Z0-9_]*$/), bucket: z.string().min(3).max(63) }))
  .min(1)
  .refine((list) => new Set(list.map((b) => b.index)).size === list.length, "backend indexes must be unique");
export type Backend = z.infer<typeof BackendsSchema>[number] & { r2: R2Bucket };

const DEFAULT = [{ index: 0, binding: "PAYLOADS", bucket: "cortensor-payloads" }];

export function payloadBackends(env: Env): Backend[] {
  const raw = env.PAYLOAD_BACKENDS?.trim();
  const list = BackendsSchema.parse(raw ? JSON.parse(raw) : DEFAULT);
  return list.flatMap((b) => {
    const r2 = (env as unknown as Record<string, unknown>)[b.binding] as R2Bucket | undefined;
    return r2 ? [{ ...b, r2 }] : [];
  });
}

const unknownBackend = (what: string) => new ApiError(400, "unknown_payload_backend", what);

/**
 * The bucket a URN names, or a 400. A v3 URN must name a configured index and
 * that index's bucket; v1/v2 URNs (no index) are matched by bucket name, R2
 * being S3-compatible, so an operator can serve an s3 bucket's objects from an
 * R2 bucket of the same name.
 */
export function backendFor(urn: PayloadUrn, backends: readonly Backend[]): Backend {
  if (urn.backendIndex !== null) {
    const b = backends.find((x) => x.index === urn.backendIndex);
    if (!b) throw unknownBackend(`no payload backend ${urn.backendIndex} is configured`);
    if (b.bucket !== urn.bucket) throw unknownBackend(`backend ${urn.backendIndex} has no bucket ${urn.bucket}`);
    return b;
  }
  const b = backends.find((x) => x.bucket === urn.bucket);
  if (!b) throw unknownBackend(`no payload backend serves bucket ${urn.bucket}`);
  return b;
}
