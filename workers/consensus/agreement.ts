import { cosineSimilarity, type EmbeddingSource } from "./embedding";

export type Candidate = { id: string; text: string };

export type Agreement = {
  /** Candidate at the centre of the largest agreeing group. */
  winnerId: string;
  /** Members of that group (the winner included), in input order. */
  agreedIds: string[];
  /** Similarity of every candidate to the winner. */
  similarityToWinner: Record<string, number>;
};

/** Smallest number of agreeing results that outvotes everyone else. */
export const majority = (redundancy: number) => Math.floor(redundancy / 2) + 1;

/**
 * Groups candidates by embedding cosine similarity. Every candidate is tried
 * as a centre; its group is everyone within `threshold` of it. The centre
 * with the largest group wins, ties broken by the group's total similarity
 * and then by arrival order (earlier first).
 */
export async function findAgreement(
  candidates: readonly Candidate[],
  options: { threshold: number; embeddings: EmbeddingSource },
): Promise<Agreement> {
  const vectors = await options.embeddings.embed(candidates.map((c) => c.text));
  if (vectors.length !== candidates.length) throw new Error("the embedding source returned the wrong number of vectors");
  const items = candidates.map((c, i) => ({ ...c, vector: vectors[i] ?? [] }));
  type Item = (typeof items)[number];
  const sim = (a: Item, b: Item) => (a === b || a.text === b.text ? 1 : cosineSimilarity(a.vector, b.vector));

  let best: { item: Item; size: number; total: number } | undefined;
  for (const a of items) {
    let size = 0;
    let total = 0;
    for (const b of items) {
      const s = sim(a, b);
      if (s >= options.threshold) {
        size++;
        total += s;
      }
    }
    if (!best || size > best.size || (size === best.size && total > best.total + 1e-12)) best = { item: a, size, total };
  }
  if (!best) throw new Error("findAgreement needs at least one candidate");
  const winner = best.item;
  const similarityToWinner: Record<string, number> = {};
  const agreedIds: string[] = [];
  for (const c of items) {
    const s = sim(winner, c);
    similarityToWinner[c.id] = round(s);
    if (s >= options.threshold) agreedIds.push(c.id);
  }
  return { winnerId: winner.id, agreedIds, similarityToWinner };
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
