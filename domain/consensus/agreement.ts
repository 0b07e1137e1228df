import { cosineSimilarity, tokenize, type EmbeddingSource } from "./embedding.ts";

/** `probation`: the miner is on probation (`miners/probation.ts`): its copy counts only in a group an established miner gave. */
export type Candidate = { id: string; text: string; probation?: boolean };

export type Agreement = {
  /** The answer: a candidate of the best group (see `findAgreement`). */
  winnerId: string;
  /** Candidates whose output is the winner's byte for byte (the winner included), in input order. */
  exactIds: string[];
  /** Those, and the candidates that nearly equal the winner both ways (`nearlyEqual`), in input order. */
  agreedIds: string[];
  /** Similarity of every candidate to the winner. */
  similarityToWinner: Record<string, number>;
  /** Outputs that did not agree with the winner, grouped by identical text: the minority answers. */
  dissent: { ids: string[]; similarity: number }[];
};

/** Smallest number of agreeing results that outvotes everyone else. */
export const majority = (redundancy: number) => Math.floor(redundancy / 2) + 1;

/**
 * Share of an output's words that may be missing from the other for two
 * outputs to count as nearly equal. Lexical cosine alone lets a lot through:
 * at a 0.9 threshold, a 48-word answer can carry about 11 appended words (an
 * injected instruction) and still "agree". This bounds what either side may
 * add to 5% of its words.
 */
export const NEAR_MAX_NOVEL_SHARE = 0.05;

type Options = { threshold: number; embeddings: EmbeddingSource };
type Item = Candidate & { vector: number[]; tokens: Map<string, number>; size: number };

async function prepare(candidates: readonly Candidate[], embeddings: EmbeddingSource): Promise<Item[]> {
  const vectors = await embeddings.embed(candidates.map((c) => c.text));
  if (vectors.length !== candidates.length) throw new Error("the embedding source returned the wrong number of vectors");
  return candidates.map((c, i) => {
    const tokens = new Map<string, number>();
    const words = tokenize(c.text);
    for (const w of words) tokens.set(w, (tokens.get(w) ?? 0) + 1);
    return { ...c, vector: vectors[i] ?? [], tokens, size: words.length };
  });
}

const similarity = (a: Item, b: Item) => (a === b || a.text === b.text ? 1 : cosineSimilarity(a.vector, b.vector));

/** Words of `a` (counted with repetition) that `b` lacks. */
function novelWords(a: Item, b: Item): number {
  let novel = 0;
  for (const [word, n] of a.tokens) novel += Math.max(0, n - (b.tokens.get(word) ?? 0));
  return novel;
}

/**
 * Near agreement, in both directions: similar by embedding, and neither adds
 * more than `NEAR_MAX_NOVEL_SHARE` of its words that the other lacks. A text
 * that is the other plus a sentence is not nearly equal to it, however high
 * their cosine.
 */
function nearlyEqual(a: Item, b: Item, threshold: number): boolean {
  if (a.text === b.text) return true;
  if (similarity(a, b) < threshold) return false;
  return novelWords(a, b) <= Math.floor(a.size * NEAR_MAX_NOVEL_SHARE) && novelWords(b, a) <= Math.floor(b.size * NEAR_MAX_NOVEL_SHARE);
}

/**
 * Who agrees with whom. Candidates with identical output form a group; the
 * best group is the one with the most identical copies (exact agreement
 * outranks near agreement), then the most support (its copies plus the
 * candidates that nearly equal it), then the one adding the fewest words the
 * other outputs lack (so a tie between an answer and the same answer with
 * something appended goes to the plain one), then the earliest. Only the
 * first rule picks a winner the others cannot overturn, which is why the
 * protocol engine decides early only on an exact majority.
 *
 * Copies from miners on probation never outweigh established ones: before
 * all that, groups rank by their established copies, so probationary copies
 * only add to a group an established miner gave (and a group of
 * probationary copies alone wins only when no established miner answered,
 * which the protocol engine never decides on).
 */
export async function findAgreement(candidates: readonly Candidate[], options: Options): Promise<Agreement> {
  // The answer given is an established miner's copy where there is one (its output, usage and signature are the task's).
  const unanimous = candidates[0] && candidates.every((c) => c.text === candidates[0]?.text) ? (candidates.find((c) => !c.probation) ?? candidates[0]) : undefined;
  // One text only (every honest task at redundancy 1, most at 3): nothing to embed or weigh.
  if (unanimous) {
    const ids = candidates.map((c) => c.id);
    return { winnerId: unanimous.id, exactIds: ids, agreedIds: ids, similarityToWinner: Object.fromEntries(ids.map((id) => [id, 1])), dissent: [] };
  }
  const items = await prepare(candidates, options.embeddings);
  const first = items[0];
  if (!first) throw new Error("findAgreement needs at least one candidate");

  const groups = new Map<string, Item[]>();
  for (const item of items) groups.set(item.text, [...(groups.get(item.text) ?? []), item]);
  const ranked = [...groups.values()].map((members, order) => {
    const centre = members.find((m) => !m.probation) ?? members[0] ?? first;
    const others = items.filter((i) => i.text !== centre.text);
    return {
      centre,
      established: members.filter((m) => !m.probation).length,
      exact: members.length,
      support: members.length + others.filter((o) => nearlyEqual(centre, o, options.threshold)).length,
      added: others.reduce((sum, o) => sum + novelWords(centre, o), 0),
      order,
    };
  });
  ranked.sort((a, b) => b.established - a.established || b.exact - a.exact || b.support - a.support || a.added - b.added || a.order - b.order);
  const winner = ranked[0]?.centre ?? first;

  const similarityToWinner: Record<string, number> = {};
  const exactIds: string[] = [];
  const agreedIds: string[] = [];
  const dissent = new Map<string, { ids: string[]; similarity: number }>();
  for (const c of items) {
    const s = round(similarity(winner, c));
    similarityToWinner[c.id] = s;
    if (c.text === winner.text) exactIds.push(c.id);
    if (nearlyEqual(winner, c, options.threshold)) agreedIds.push(c.id);
    else dissent.set(c.text, { ids: [...(dissent.get(c.text)?.ids ?? []), c.id], similarity: s });
  }
  return { winnerId: winner.id, exactIds, agreedIds, similarityToWinner, dissent: [...dissent.values()] };
}

/** A result judged against an answer already decided (a late result). */
export async function judgeAgainst(answer: string, text: string, options: Options): Promise<{ similarity: number; agreed: boolean }> {
  if (answer === text) return { similarity: 1, agreed: true };
  const [a, b] = await prepare(
    [
      { id: "answer", text: answer },
      { id: "other", text },
    ],
    options.embeddings,
  );
  if (!a || !b) throw new Error("the embedding source returned no vectors");
  return { similarity: round(similarity(a, b)), agreed: nearlyEqual(a, b, options.threshold) };
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
