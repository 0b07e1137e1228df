import { createParser } from "eventsource-parser";
import type { Context } from "hono";
import { z } from "zod";
import { loadConfig } from "../../domain/config/config";
import { costMicros, gatewayConfig, priceFor } from "../../domain/gateway/gateway-config";
import { type GatewayWork, serveCompletion, serveStream } from "../gateway/serve";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../../domain/errors";
import type { CompletionResponse } from "../../domain/schemas/completion";
import type { NeuroShardInferenceRequest, NeuroShardInferenceResponse } from "../../domain/schemas/neuroshard";
import { toAmount } from "../../domain/wallet/amounts";
import { neuroShardError } from "./errors";

/**
 * Inference as a NeuroShard node serves it, run by the hosted gateway: the
 * caller's customer key, the model alias NEUROSHARD_MODEL (its session, pool
 * and price), admission (402, 429), dispatch and billing are the gateway's
 * own (workers/gateway/serve.ts); this module only speaks the node's shapes.
 */
function workOf(model: string, body: NeuroShardInferenceRequest): GatewayWork {
  return {
    model,
    prompt: body.prompt,
    max_tokens: body.max_tokens,
    temperature: body.temperature,
    top_p: body.top_p,
    top_k: body.top_k,
    ...(body.stop.length > 0 ? { stop: body.stop } : {}),
  };
}

/**
 * The time the answer took to produce: the slowest agreeing miner's (the
 * answer existed once it was in). The rest of the total is the node's
 * queueing: admission, routing, the other miners, consensus.
 */
function inferenceMs(completion: CompletionResponse, totalMs: number): number {
  const agreed = completion.miners.filter((m) => m.agreed && m.latency_ms !== null).map((m) => m.latency_ms ?? 0);
  return Math.min(totalMs, agreed.length > 0 ? Math.max(...agreed) : totalMs);
}

export async function nodeInference(c: Context<AppEnv>, body: NeuroShardInferenceRequest): Promise<{ answer: NeuroShardInferenceResponse; requestId: string }> {
  const started = Date.now();
  const config = loadConfig(c.env);
  const model = config.neuroshard.model;
  const served = await serveCompletion(c, workOf(model, body));
  const totalMs = Date.now() - started;
  const { completion } = served;
  const choice = completion.choices[0];
  const usage = completion.usage;
  const charged = costMicros(priceFor(gatewayConfig(c.env), model), usage.prompt_tokens, usage.completion_tokens);
  const inference = inferenceMs(completion, totalMs);
  return {
    requestId: served.requestId,
    answer: {
      id: served.requestId,
      text: choice?.text ?? "",
      tokens_generated: usage.completion_tokens,
      finish_reason: choice?.finish_reason ?? null,
      usage,
      cost: { amount: toAmount(charged), currency: config.wallet.currency },
      timing: { queue_ms: totalMs - inference, inference_ms: inference, total_ms: totalMs },
    },
  };
}

/** What the node stream reads of the router's completion chunks. */
const ChunkSchema = z.object({
  choices: z.array(z.object({ text: z.string().nullish(), finish_reason: z.string().nullish() })).default([]),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() }).nullish(),
  error: z.object({ code: z.string(), message: z.string().default("the stream failed") }).nullish(),
});

/**
 * The router's completion events as the node API streams them: each piece
 * of text one `{"token", "index"}` event, indexes contiguous from 0, then
 * `{"token": "[DONE]", "finish_reason", "usage"}`. A failure midway is one
 * `{"error": {...}}` event in the node's error shape, and no `[DONE]`.
 */
export function toNodeEvents(): TransformStream<Uint8Array, Uint8Array> {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let controller: TransformStreamDefaultController<Uint8Array> | undefined;
  let index = 0;
  let finishReason: string | null = null;
  let usage: z.infer<typeof ChunkSchema>["usage"] = null;
  let failed = false;
  const send = (data: unknown) => controller?.enqueue(encoder.encode(`data: ${JSON.stringify(data)}\n\n`));
  const parser = createParser({
    onEvent(event) {
      if (failed || event.data === "[DONE]") return;
      let json: unknown;
      try {
        json = JSON.parse(event.data);
      } catch {
        return;
      }
      const chunk = ChunkSchema.safeParse(json).data;
      if (!chunk) return;
      if (chunk.error) {
        failed = true;
        send(neuroShardError(new ApiError(502, chunk.error.code, chunk.error.message)));
        return;
      }
      const choice = chunk.choices[0];
      if (choice?.text) send({ token: choice.text, index: index++ });
      if (choice?.finish_reason) finishReason = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    },
  });
  return new TransformStream({
    start(c) {
      controller = c;
    },
    transform(bytes) {
      parser.feed(decoder.decode(bytes, { stream: true }));
    },
    flush() {
      parser.feed(`${decoder.decode()}\n\n`);
      if (!failed) send({ token: "[DONE]", finish_reason: finishReason, usage });
    },
  });
}

export async function nodeInferenceStream(c: Context<AppEnv>, body: NeuroShardInferenceRequest) {
  const live = await serveStream(c, workOf(loadConfig(c.env).neuroshard.model, body));
  return { requestId: live.requestId, stream: live.stream.pipeThrough(toNodeEvents()) };
}
