/**
 * The dev miner's "model": deterministic text from the prompt. Every correct
 * miner gives the same text for the same prompt; a wrong-answer variant draws
 * from a different vocabulary, so it shares almost no words with the correct
 * one (nor with another wrong miner's).
 */
import { createHash } from "node:crypto";
import { prng } from "./prng.ts";

const CORRECT = (
  "network router session miner task result answer model inference node consensus proof work token " +
  "request response latency quality agreement redundancy protocol commit reveal hash verify secure open " +
  "distributed compute cluster batch stream prompt context output input value signal record ledger state " +
  "reliable fast steady careful clear simple useful honest direct accurate stable efficient modern global " +
  "edge cloud worker storage payload address contract event chain block index query route gateway client " +
  "server engine kernel memory cache queue schedule alarm timer deadline policy tier pool replica vote"
).split(" ");

const WRONG = (
  "banana purple ocean guitar pickle thunder velvet marble kitten pancake rocket violin meadow lantern " +
  "cactus puzzle walrus tulip origami saffron glacier harbor jungle kettle lemon mango nectar olive parrot " +
  "quartz radish saddle teapot umbrella vortex waffle yogurt zebra anchor bonfire candle dolphin emerald " +
  "falcon garnet hammock igloo jasmine koala lagoon mosaic noodle orchid pepper quilt raccoon sunflower"
).split(" ");

function seedOf(text: string): number {
  return createHash("sha256").update(text).digest().readUInt32LE(0);
}

export const MAX_WORDS = 48;

export function generate(input: { prompt: string; maxTokens?: number | undefined; variant: string }): { text: string; truncated: boolean } {
  const vocabulary = input.variant === "correct" ? CORRECT : WRONG;
  const random = prng(seedOf(`${input.variant}\n${input.prompt}`));
  const limit = Math.max(1, Math.min(input.maxTokens ?? MAX_WORDS, MAX_WORDS));
  const words: string[] = [];
  let sentence = 0;
  for (let i = 0; i < limit; i++) {
    let word = vocabulary[Math.floor(random() * vocabulary.length)]!;
    if (sentence === 0) word = word[0]!.toUpperCase() + word.slice(1);
    sentence++;
    const last = i === limit - 1;
    if (last || (sentence >= 6 && random() < 0.25)) {
      word += ".";
      sentence = 0;
    }
    words.push(word);
  }
  return { text: words.join(" "), truncated: (input.maxTokens ?? MAX_WORDS) < MAX_WORDS };
}

export function countTokens(text: string): number {
  return (text.match(/\S+/g) ?? []).length;
}

/** A deterministic bag-of-words embedding (64 dimensions, L2-normalised) for /v1/embeddings. */
export function embed(text: string): number[] {
  const vector = new Array<number>(64).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const h = createHash("sha256").update(word).digest();
    const i = h.readUInt8(0) % 64;
    vector[i] = (vector[i] ?? 0) + (h.readUInt8(1) & 1 ? 1 : -1);
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((v) => v / norm);
}

/**
 * Whether a prompt asks for one JSON object (the router's verdict prompts,
 * workers/work/verdict.ts VERDICT_INSTRUCTIONS). A NeuroShard node has no
 * JSON mode (seed 003's inference takes a prompt only), so the model behind
 * it, as any model told so, answers such a prompt with the object: the
 * NeuroShard double answers it as the OpenAI mode answers in JSON mode.
 */
export const asksForJsonObject = (prompt: string) => /\bAnswer with one JSON object\b/.test(prompt);

/**
 * The answer to a JSON-mode request. A prompt asking for a "verdict" gets
 * the router's verdict object (or, in "malformed" mode, prose); any other
 * JSON request gets {"result": text}.
 */
export function jsonAnswer(input: { prompt: string; maxTokens?: number | undefined; variant: string; verdict: string }): string {
  if (!/"verdict"/.test(input.prompt)) return JSON.stringify({ result: generate(input).text });
  if (input.verdict === "malformed") return "Sure! Having looked at it carefully, I would say the claim is VALID.";
  const subject = /<<<(?:OUTPUT|STATEMENT)\n([\s\S]*?)\n>>>/.exec(input.prompt)?.[1] ?? input.prompt;
  let verdict = input.verdict;
  if (verdict === "auto") {
    verdict = /\b(wrong|false)\b/i.test(subject) ? "INVALID" : "VALID";
    if (input.variant !== "correct") verdict = verdict === "VALID" ? "INVALID" : "VALID";
  }
  return JSON.stringify({
    verdict,
    confidence: verdict === "VALID" || verdict === "INVALID" ? 0.9 : 0.4,
    reasons: [
      verdict === "VALID" ? "The output is consistent with every rule." : verdict === "INVALID" ? "The output contradicts a rule." : "The request cannot be judged as given.",
    ],
    advice: verdict === "VALID" ? "No change needed." : "Revise the output against the rules.",
    evidence: [subject.slice(0, 80)],
  });
}
