import type { CompletionResponse } from "../schemas/completion";

const encoder = new TextEncoder();

/** Splits text into word-sized pieces that concatenate back to it exactly. */
export function pieces(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text ? [text] : []);
}

/**
 * OpenAI-style server-sent events for a decided completion: one chunk per
 * piece, a final chunk with finish_reason and usage, then `data: [DONE]`.
 */
export function completionEvents(completion: CompletionResponse): string[] {
  const chat = completion.object === "chat.completion";
  const choice = completion.choices[0];
  const text = (chat ? choice?.message?.content : choice?.text) ?? "";
  const base = {
    id: completion.id,
    object: chat ? "chat.completion.chunk" : "text_completion",
    created: completion.created,
    model: completion.model,
    session_id: completion.session_id,
    task_id: completion.task_id,
  };
  const events = pieces(text).map((piece, i) =>
    JSON.stringify({
      ...base,
      choices: [
        chat
          ? { index: 0, delta: i === 0 ? { role: "assistant", content: piece } : { content: piece }, finish_reason: null }
          : { index: 0, text: piece, finish_reason: null, logprobs: null },
      ],
    }),
  );
  events.push(
    JSON.stringify({
      ...base,
      choices: [chat ? { index: 0, delta: {}, finish_reason: choice?.finish_reason ?? "stop" } : { index: 0, text: "", finish_reason: choice?.finish_reason ?? "stop", logprobs: null }],
      usage: completion.usage,
      consensus: completion.consensus,
      miners: completion.miners,
    }),
  );
  return events;
}

export function sseResponse(events: readonly string[], headers: Record<string, string> = {}): Response {
  const body = events.map((e) => `data: ${e}\n\n`).join("") + "data: [DONE]\n\n";
  return new Response(encoder.encode(body), {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", ...headers },
  });
}
