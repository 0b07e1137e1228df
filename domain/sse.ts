import type { CompletionResponse } from "./schemas/completion.ts";

const encoder = new TextEncoder();

/** Fields every chunk of one completion's stream repeats. */
export type StreamHead = {
  id: string;
  object: "text_completion" | "chat.completion.chunk";
  created: number;
  model: string;
  session_id: number;
  task_id: number;
};

export function headOf(completion: CompletionResponse): StreamHead {
  return {
    id: completion.id,
    object: completion.object === "chat.completion" ? "chat.completion.chunk" : "text_completion",
    created: completion.created,
    model: completion.model,
    session_id: completion.session_id,
    task_id: completion.task_id,
  };
}

/** Splits text into word-sized pieces that concatenate back to it exactly. */
export function pieces(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text ? [text] : []);
}

/** One OpenAI-style chunk carrying a piece of text. */
export function deltaChunk(head: StreamHead, piece: string, first: boolean): string {
  const choice =
    head.object === "chat.completion.chunk"
      ? { index: 0, delta: first ? { role: "assistant", content: piece } : { content: piece }, finish_reason: null }
      : { index: 0, text: piece, finish_reason: null, logprobs: null };
  return JSON.stringify({ ...head, choices: [choice] });
}

/** The closing chunk: finish reason, usage, and the consensus record. */
export function finalChunk(
  head: StreamHead,
  end: Pick<CompletionResponse, "usage" | "consensus" | "miners"> & { finishReason: string | null; error?: { code: string; message: string } },
): string {
  const choice =
    head.object === "chat.completion.chunk" ? { index: 0, delta: {}, finish_reason: end.finishReason } : { index: 0, text: "", finish_reason: end.finishReason, logprobs: null };
  return JSON.stringify({
    ...head,
    choices: [choice],
    usage: end.usage,
    consensus: end.consensus,
    miners: end.miners,
    ...(end.error ? { error: end.error } : {}),
  });
}

/** The whole event sequence for a completion that is already decided. */
export function completionEvents(completion: CompletionResponse): string[] {
  const head = headOf(completion);
  const choice = completion.choices[0];
  const text = (completion.object === "chat.completion" ? choice?.message?.content : choice?.text) ?? "";
  return [...pieces(text).map((piece, i) => deltaChunk(head, piece, i === 0)), finalChunk(head, { ...completion, finishReason: choice?.finish_reason ?? "stop" })];
}

export const sseEvent = (data: string) => encoder.encode(`data: ${data}\n\n`);
export const SSE_DONE = "[DONE]";

export const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" };

export function sseResponse(events: readonly string[], headers: Record<string, string> = {}): Response {
  const body = `${events.map((e) => `data: ${e}\n\n`).join("")}data: ${SSE_DONE}\n\n`;
  return new Response(encoder.encode(body), { headers: { ...SSE_HEADERS, ...headers } });
}
