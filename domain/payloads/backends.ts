import { loadConfig, type Vars, type Backend } from "../config/config.ts";
import { ApiError } from "../errors.ts";
import type { PayloadUrn } from "./urn.ts";

export type { Backend };

/**
 * The R2 buckets payloads may live in: `PAYLOAD_BACKENDS` (a var) lists them
 * as JSON, `[{"index": 0, "binding": "PAYLOADS", "bucket": "cortensor-payloads"}]`;
 * `index` is the URN's backend_index, `binding` the R2 binding in wrangler.toml.
 * The configuration reads and checks it (a binding that is not there is a problem).
 */
export function payloadBackends(env: Vars): readonly Backend[] {
  return loadConfig(env).payloadBackends;
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
