import { z } from "zod";
import { flag, optionalId, parsed, positiveInt, type SectionContext, secret, seconds, url, type VarsOf } from "./var-readers.ts";

/** The router itself: its environment and name, request limits, consensus and where it gets embeddings. */
export const coreVars = {
  /** "production" refuses to serve with dev-only credentials or missing secrets. */
  ENVIRONMENT: parsed(z.enum(["production", "development", "test"]).default("production")),
  ROUTER_NAME: parsed(z.string().default("cortensor-edge-router")),
  DEFAULT_SESSION_ID: optionalId,
  DEFAULT_TIMEOUT_S: seconds(60),
  MAX_TIMEOUT_S: seconds(600),
  MAX_BODY_BYTES: positiveInt(1_048_576),
  CONSENSUS_SIMILARITY_THRESHOLD: parsed(z.coerce.number<string>().min(0).max(1).default(0.9)),
  /** Count this isolate's calls to each Durable Object (GET /api/v1/admin/object-traffic; the bench's busiest object). */
  OBJECT_TRAFFIC_METER: flag,
  EMBEDDING_SOURCE: parsed(z.enum(["lexical", "openai"]).default("lexical")),
  EMBEDDING_URL: url,
  EMBEDDING_MODEL: parsed(z.string().default("text-embedding-3-small")),
  ROUTER_PUBLIC_URL: url,
  // Secret (`wrangler secret put`).
  EMBEDDING_API_KEY: secret,
};

export function coreSection(e: VarsOf<typeof coreVars>, { problems }: SectionContext) {
  if (e.EMBEDDING_SOURCE === "openai" && !e.EMBEDDING_URL) problems.push("EMBEDDING_SOURCE is openai but EMBEDDING_URL is not set");
  return {
    environment: e.ENVIRONMENT,
    routerName: e.ROUTER_NAME,
    defaultSessionId: e.DEFAULT_SESSION_ID,
    defaultTimeoutS: e.DEFAULT_TIMEOUT_S,
    maxTimeoutS: e.MAX_TIMEOUT_S,
    maxBodyBytes: e.MAX_BODY_BYTES,
    similarityThreshold: e.CONSENSUS_SIMILARITY_THRESHOLD,
    /** Where consensus gets embeddings: built-in lexical, or an OpenAI-compatible /v1/embeddings. */
    embedding: embeddingFrom(e.EMBEDDING_SOURCE, e.EMBEDDING_URL, e.EMBEDDING_MODEL, e.EMBEDDING_API_KEY),
    objectTrafficMeter: e.OBJECT_TRAFFIC_METER,
    /** Base URL miners use to reach this router; defaults to the request's origin. */
    publicUrl: e.ROUTER_PUBLIC_URL,
  };
}

function embeddingFrom(
  source: "lexical" | "openai",
  url: string | undefined,
  model: string,
  apiKey: string,
): { source: "lexical" } | { source: "openai"; url: string; model: string; apiKey?: string } {
  return source === "openai" && url ? { source: "openai", url, model, ...(apiKey ? { apiKey } : {}) } : { source: "lexical" };
}
