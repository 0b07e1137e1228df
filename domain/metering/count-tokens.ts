import type { MinerRequest } from "../schemas/completion.ts";

/** UTF-16 code units encoded at a time: the scratch buffer holds their worst case (3 bytes each), 48 KB reused by every count. */
const CHUNK = 16_384;
const scratch = new Uint8Array(CHUNK * 3);
const encoder = new TextEncoder();
const isHighSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;

/**
 * The router's own token count of a text: its UTF-8 length in bytes.
 *
 * A BPE token (GPT's, Llama's, Qwen's, Mistral's byte-fallback tokenizers)
 * spans at least one byte, so no tokenizer a miner runs can need more tokens
 * than the text has bytes: this count never undercounts what the text can
 * hold, whichever model wrote it, and is the same for every miner that gave
 * the same text. It needs no vocabulary (a real tokenizer's ranks add 1.2 MB
 * for cl100k, 2.4 MB for o200k to the bundle, ~180 ms to load, and still
 * guess another model's count); see docs/architecture.md "Metering".
 *
 * Measured with the runtime's native encoder into one scratch buffer, a chunk
 * at a time (no copy of the text's size): about 7 µs for 16 KB (a JavaScript
 * loop over the code units took 15 times that; `npm run bench`). A chunk
 * never ends between the halves of a surrogate pair; a lone surrogate counts
 * as the 3 bytes of the U+FFFD it is encoded as.
 */
export function meteredTokens(text: string): number {
  let bytes = 0;
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + CHUNK, text.length);
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
    bytes += encoder.encodeInto(text.slice(start, end), scratch).written;
    start = end;
  }
  return bytes;
}

/**
 * The prompt tokens of what the router sent every miner of a task: the
 * prompt, or each message's role and content (a chat template adds its own
 * few tokens per message; the role's bytes stand in for them).
 */
export function meteredPromptTokens(request: Pick<MinerRequest, "prompt" | "messages">): number {
  if (request.messages) return request.messages.reduce((n, m) => n + meteredTokens(m.role) + meteredTokens(m.content), 0);
  return meteredTokens(request.prompt ?? "");
}

/** Token counts as a completion reports them. */
export type MeteredUsage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };

/**
 * The usage a client is shown, billed and its miners paid for: the router's
 * count of the prompt it sent and of the chosen output's text, the latter
 * never above the request's `max_tokens` (the most the client asked for).
 * A miner's own figures never enter it (they are audited: `usage-audit.ts`).
 */
export function meteredUsage(request: Pick<MinerRequest, "prompt" | "messages" | "max_tokens">, outputText: string): MeteredUsage {
  const prompt = meteredPromptTokens(request);
  const text = meteredTokens(outputText);
  const completion = request.max_tokens === undefined ? text : Math.min(text, request.max_tokens);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
