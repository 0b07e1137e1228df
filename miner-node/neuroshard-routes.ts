/**
 * The node's NeuroShard mode (`--protocol neuroshard`): it speaks the
 * NeuroShard node API (seed 003, what domain/miners/neuroshard-protocol.ts
 * calls) by translating to the OpenAI-compatible upstream. An inference is a
 * completion of the first served model; a stream's chunks become the node
 * API's `{"token", "index"}` events. The upstream holds the whole model, so
 * the node reports no layers of its own and no training.
 */
import type { Context, Hono } from "hono";
import { NeuroShardInferenceRequestSchema } from "../domain/schemas/neuroshard.ts";
import type { NodeContext } from "./openai-routes.ts";
import { event, readEvents } from "./sse.ts";
import { answerText, callUpstream, chunkPiece } from "./upstream.ts";

const nodeError = (code: string, message: string, details?: Record<string, unknown>) => ({ error: { code, message, ...(details ? { details } : {}) } });

type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };
function usageOf(json: unknown): Usage | null {
  const u = (json as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } } | null)?.usage;
  if (typeof u?.prompt_tokens !== "number" || typeof u.completion_tokens !== "number") return null;
  return { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.prompt_tokens + u.completion_tokens };
}

export function mountNeuroShard(app: Hono, ctx: NodeContext & { nodeId: string }) {
  const startedAt = Date.now();

  app.get("/api/v1/health", async (c) => {
    try {
      const res = await callUpstream(ctx.upstream, "models", { signal: AbortSignal.timeout(10_000) });
      await res.body?.cancel();
      if (res.ok) return c.json({ healthy: true, checks: { upstream: "ok" } });
      return c.json({ healthy: false, checks: { upstream: `answered ${res.status}` } }, 503);
    } catch {
      return c.json({ healthy: false, checks: { upstream: "unreachable" } }, 503);
    }
  });

  app.get("/api/v1/status", (c) =>
    c.json({
      node_id: ctx.nodeId,
      version: "cortensor-miner-node",
      uptime_seconds: Math.floor((Date.now() - startedAt) / 1000),
      status: "running",
      role: "worker",
      layers: [],
      peer_count: 0,
      training: { enabled: false, epoch: null, step: null, loss: null },
    }),
  );

  app.get("/api/v1/layers", (c) => c.json({ layers: [], total_layers: null, my_layer_count: 0 }));
  app.get("/api/training/global", (c) => c.json(nodeError("NOT_FOUND", "this node does not train"), 404));

  // A node serves one model: the first it announces.
  app.post("/api/v1/inference", (c) => infer(c, ctx, ctx.models[0] ?? ""));
}

async function infer(c: Context, ctx: NodeContext, model: string): Promise<Response> {
  const received = Date.now();
  const raw = (await c.req.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  const parsed = NeuroShardInferenceRequestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return c.json(nodeError("INVALID_REQUEST", issue?.message ?? "invalid request", { field: issue?.path.join(".") ?? "" }), 400);
  }
  const req = parsed.data;
  const release = ctx.gate.enter();
  if (!release) return c.json(nodeError("RATE_LIMITED", "this node is at its max_concurrency"), 429, { "retry-after": "1" });
  const body: Record<string, unknown> = { model, prompt: req.prompt, max_tokens: req.max_tokens, temperature: req.temperature, top_p: req.top_p, stream: req.stream };
  // top_k is not in the OpenAI API: passed on only when the router set it (vLLM, llama.cpp and Ollama read it).
  if (raw && raw["top_k"] !== undefined) body["top_k"] = req.top_k;
  if (req.stop.length > 0) body["stop"] = req.stop;
  const abort = new AbortController();
  c.req.raw.signal.addEventListener("abort", () => abort.abort(), { once: true });
  let res: Response;
  try {
    res = await callUpstream(ctx.upstream, "completions", { body, signal: abort.signal });
  } catch {
    release();
    return c.json(nodeError("UNAVAILABLE", "the upstream server is unreachable"), 503);
  }
  if (!res.ok) {
    release();
    await res.body?.cancel();
    return c.json(nodeError(res.status === 400 ? "INVALID_REQUEST" : "INTERNAL_ERROR", `the upstream server answered ${res.status}`), res.status === 400 ? 400 : 502);
  }
  if (req.stream && res.body && (res.headers.get("content-type") ?? "").includes("text/event-stream")) {
    const upstream = res.body;
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        let index = 0;
        let finishReason: string | null = null;
        let usage: Usage | null = null;
        try {
          await readEvents(upstream, (data) => {
            if (data === "[DONE]") return;
            const json = JSON.parse(data) as unknown;
            const chunk = chunkPiece(json, false);
            usage = usageOf(json) ?? usage;
            if (chunk.finishReason) finishReason = chunk.finishReason;
            if (chunk.piece) controller.enqueue(event(JSON.stringify({ token: chunk.piece, index: index++ })));
          });
          controller.enqueue(event(JSON.stringify({ token: "[DONE]", finish_reason: finishReason, usage })));
          controller.close();
        } catch (err) {
          controller.error(err);
        } finally {
          release();
        }
      },
      cancel() {
        abort.abort();
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
  }
  try {
    const json = (await res.json()) as unknown;
    const text = answerText(json, false);
    if (text === undefined) return c.json(nodeError("INTERNAL_ERROR", "the upstream server sent no completion"), 502);
    const usage = usageOf(json) ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    const choice = (json as { choices: { finish_reason?: unknown }[] }).choices[0];
    const total = Date.now() - received;
    return c.json({
      id: `inf_${(json as { id?: unknown }).id ?? received}`,
      text,
      tokens_generated: usage.completion_tokens,
      finish_reason: typeof choice?.finish_reason === "string" ? choice.finish_reason : null,
      usage,
      cost: { amount: 0, currency: "NEURO" },
      timing: { queue_ms: 0, inference_ms: total, total_ms: total },
    });
  } catch {
    return c.json(nodeError("INTERNAL_ERROR", "the upstream server sent a body that is not JSON"), 502);
  } finally {
    release();
  }
}
