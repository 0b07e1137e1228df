import { z } from "zod";

/**
 * Where output embeddings come from. The built-in lexical source needs no
 * model; a deployment can plug in a miner's `/v1/embeddings` (or any
 * OpenAI-compatible embeddings endpoint) instead.
 */
export interface EmbeddingSource {
  readonly name: string;
  embed(texts: readonly string[]): Promise<number[][]>;
}

const DIMENSIONS = 512;

/** The part of an OpenAI-compatible `/v1/embeddings` answer this reads. */
const EmbeddingsResponse = z.object({ data: z.array(z.object({ index: z.number().int(), embedding: z.array(z.number()) })) });

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * Hashed bag of unigrams and bigrams, signed to cancel collisions on average,
 * L2-normalised. Identical texts give identical vectors; texts sharing few
 * words give near-orthogonal ones.
 */
export function lexicalEmbedding(text: string, dimensions = DIMENSIONS): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const tokens = tokenize(text);
  const add = (feature: string, weight: number) => {
    const h = fnv1a(feature);
    const index = h % dimensions;
    vector[index] = (vector[index] ?? 0) + ((h & 0x80000000) !== 0 ? -weight : weight);
  };
  tokens.forEach((token, i) => {
    add(token, 1);
    const next = tokens[i + 1];
    if (next !== undefined) add(`${token} ${next}`, 0.5);
  });
  const norm = Math.hypot(...vector);
  return norm === 0 ? vector : vector.map((v) => v / norm);
}

export const lexicalEmbeddingSource: EmbeddingSource = {
  name: "lexical",
  embed: async (texts) => texts.map((t) => lexicalEmbedding(t)),
};

/** An OpenAI-compatible `/v1/embeddings` endpoint (a miner, or any provider). */
export function openAiEmbeddingSource(options: { baseUrl: string; apiKey?: string; model: string; fetcher?: typeof fetch }): EmbeddingSource {
  const fetcher = options.fetcher ?? fetch;
  return {
    name: `openai:${options.model}`,
    async embed(texts) {
      const response = await fetcher(new URL("/v1/embeddings", options.baseUrl), {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
        },
        body: JSON.stringify({ model: options.model, input: texts }),
      });
      if (!response.ok) throw new Error(`embeddings endpoint answered ${response.status}`);
      const parsed = EmbeddingsResponse.safeParse(await response.json());
      if (!parsed.success) throw new Error("embeddings endpoint sent no list of vectors", { cause: parsed.error });
      const rows = [...parsed.data.data].sort((a, b) => a.index - b.index);
      if (rows.length !== texts.length) throw new Error("embeddings endpoint returned the wrong number of vectors");
      return rows.map((r) => r.embedding);
    },
  };
}

export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (na === 0 || nb === 0) return na === nb ? 1 : 0;
  return dot / Math.sqrt(na * nb);
}

/**
 * The configured source, falling back to the lexical one when a remote
 * endpoint fails: consensus must not stall because embeddings are down.
 */
export function embeddingSourceFor(config: { source: "lexical" } | { source: "openai"; url: string; model: string; apiKey?: string }): EmbeddingSource {
  if (config.source === "lexical") return lexicalEmbeddingSource;
  const remote = openAiEmbeddingSource({ baseUrl: config.url, model: config.model, ...(config.apiKey ? { apiKey: config.apiKey } : {}) });
  return {
    name: remote.name,
    async embed(texts) {
      try {
        return await remote.embed(texts);
      } catch (err) {
        console.error("embedding source failed; using lexical embeddings", err);
        return lexicalEmbeddingSource.embed(texts);
      }
    },
  };
}
