import { ApiError } from "../errors.ts";

/**
 * Payload URNs of the Cortensor docs, plus the R2 form of the same shape:
 *
 *   urn:blob:v1:s3:{provider}:{bucket}:{file_name}
 *   urn:blob:v2:s3:{provider}:{bucket}:{file_name}
 *   urn:blob:v3:s3:{provider}:{backend_index}:{bucket}:{file_name}
 *   urn:blob:v1:r2:{bucket}:{file_name}          (and v2)
 *   urn:blob:v3:r2:{backend_index}:{bucket}:{file_name}
 *
 * A file name is a relative object key: segments of letters, digits, '.',
 * '_' and '-' joined by '/', never '.' or '..', never empty.
 */
export type PayloadUrn = {
  version: "v1" | "v2" | "v3";
  store: "s3" | "r2";
  /** s3 only: the provider segment (e.g. "akamai"). */
  provider: string | null;
  /** v3 only. */
  backendIndex: number | null;
  bucket: string;
  fileName: string;
};

const SEGMENT = /^[A-Za-z0-9._-]{1,128}$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PROVIDER = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const malformedUrn = (urn: string, why: string) => new ApiError(400, "invalid_payload_urn", `malformed payload URN: ${why}`, { urn: urn.slice(0, 300) });

export function isSafeFileName(name: string): boolean {
  if (name.length === 0 || name.length > 512 || name.startsWith("/") || name.endsWith("/")) return false;
  return name.split("/").every((seg) => SEGMENT.test(seg) && seg !== "." && seg !== "..");
}

export function parseUrn(urn: string): PayloadUrn {
  if (urn.length > 1024) throw malformedUrn(urn, "longer than 1024 characters");
  const parts = urn.split(":");
  if (parts[0] !== "urn" || parts[1] !== "blob") throw malformedUrn(urn, "must start with urn:blob:");
  const version = parts[2];
  if (version !== "v1" && version !== "v2" && version !== "v3") throw malformedUrn(urn, "version must be v1, v2 or v3");
  const store = parts[3];
  if (store !== "s3" && store !== "r2") throw malformedUrn(urn, "store must be s3 or r2");
  const rest = parts.slice(4);
  const expected = (store === "s3" ? 1 : 0) + (version === "v3" ? 1 : 0) + 2;
  // The file name is last and may not contain ':'; every field is required.
  if (rest.length !== expected) throw malformedUrn(urn, `expected ${expected} fields after urn:blob:${version}:${store}`);
  // Fields in order; shift() yields each once, and the count was checked above.
  const next = () => rest.shift() ?? "";
  const provider = store === "s3" ? next() : null;
  if (provider !== null && !PROVIDER.test(provider)) throw malformedUrn(urn, "bad provider");
  let backendIndex: number | null = null;
  if (version === "v3") {
    const raw = next();
    if (!/^\d{1,3}$/.test(raw)) throw malformedUrn(urn, "backend_index must be a small non-negative integer");
    backendIndex = Number(raw);
  }
  const bucket = next();
  if (!BUCKET.test(bucket)) throw malformedUrn(urn, "bad bucket name");
  const fileName = next();
  if (!isSafeFileName(fileName)) throw malformedUrn(urn, "bad file name");
  return { version, store, provider, backendIndex, bucket, fileName };
}

export function formatUrn(u: PayloadUrn): string {
  const fields = ["urn", "blob", u.version, u.store];
  if (u.store === "s3") fields.push(u.provider ?? "akamai");
  if (u.version === "v3") fields.push(String(u.backendIndex ?? 0));
  fields.push(u.bucket, u.fileName);
  return fields.join(":");
}
