/**
 * The upstream inference server (vLLM, Ollama, llama.cpp, SGLang, TGI): its
 * OpenAI-compatible base URL (`http://127.0.0.1:8000/v1`; a bare origin gets
 * `/v1`), and the calls the node makes to it. The router's `x-cortensor-*`
 * headers and its credential are not passed on: the upstream sees a plain
 * OpenAI request, with its own API key when it has one.
 */
export type Upstream = { base: URL; apiKey: string | undefined };

export function upstreamOf(base: string, apiKey?: string): Upstream {
  const url = new URL(base);
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/v1";
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return { base: url, apiKey };
}

/** The URL of an upstream route, `path` relative to the base (`completions`, `models`). */
export const upstreamUrl = (u: Upstream, path: string) => new URL(path.replace(/^\/+/, ""), u.base);

export function callUpstream(u: Upstream, path: string, init: { method?: string; body?: unknown; signal?: AbortSignal }): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json, text/event-stream" };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  if (u.apiKey) headers["authorization"] = `Bearer ${u.apiKey}`;
  return fetch(upstreamUrl(u, path), {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    ...(init.signal ? { signal: init.signal } : {}),
  });
}

/** The text of an OpenAI answer's first choice, as the router reads it (domain/miners/call-miner.ts): a completion's `text`, a chat's `message.content`. */
export function answerText(json: unknown, chat: boolean): string | undefined {
  const choice = (json as { choices?: unknown[] } | null)?.choices?.[0] as { text?: unknown; message?: { content?: unknown } } | undefined;
  if (!choice) return undefined;
  if (chat) return typeof choice.message?.content === "string" ? choice.message.content : choice.message && choice.message.content == null ? "" : undefined;
  return typeof choice.text === "string" ? choice.text : undefined;
}

/** The piece of text one streamed chunk adds, as the router reads it: the first choice's `delta.content` (chat) or `text`. */
export function chunkPiece(json: unknown, chat: boolean): { piece: string; finishReason: string | null } {
  const choice = (json as { choices?: unknown[] } | null)?.choices?.[0] as { text?: unknown; delta?: { content?: unknown }; finish_reason?: unknown } | undefined;
  const raw = chat ? choice?.delta?.content : choice?.text;
  return { piece: typeof raw === "string" ? raw : "", finishReason: typeof choice?.finish_reason === "string" ? choice.finish_reason : null };
}
