import type { MinerRequest } from "../schemas/completion";

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
 * Counted without allocating (no TextEncoder copy): one pass over the
 * UTF-16 code units. A lone surrogate counts as U+FFFD would be encoded (3).
 */
export function meteredTokens(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A surrogate pair: one code point of four bytes.
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
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
