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
  if (candidates.length === 0) throw new Error("findAgreement needs at least one candidate");
  const vectors = await options.embeddings.embed(candidates.map((c) => c.text));
  const sim = (i: number, j: number) =>
    i === j ? 1 : candidates[i]!.text === candidates[j]!.text ? 1 : cosineSimilarity(vectors[i]!, vectors[j]!);

  let best = { index: 0, size: -1, total: -Infinity };
  for (let i = 0; i < candidates.length; i++) {
    let size = 0;
    let total = 0;
    for (let j = 0; j < candidates.length; j++) {
      const s = sim(i, j);
      if (s >= options.threshold) {
        size++;
        total += s;
      }
    }
    if (size > best.size || (size === best.size && total > best.total + 1e-12)) best = { index: i, size, total };
  }
  const winner = candidates[best.index]!;
  const similarityToWinner: Record<string, number> = {};
  const agreedIds: string[] = [];
  candidates.forEach((c, j) => {
    const s = sim(best.index, j);
    similarityToWinner[c.id] = round(s);
    if (s >= options.threshold) agreedIds.push(c.id);
  });
  return { winnerId: winner.id, agreedIds, similarityToWinner };
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
