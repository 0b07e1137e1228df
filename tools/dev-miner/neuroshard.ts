/**
 * The dev miner's NeuroShard mode (a TEST DOUBLE of a NeuroShard node, seed
 * 003): `POST /api/v1/inference` (plain and streamed), `GET /api/v1/health`,
 * `GET /api/v1/status` and `GET /api/v1/layers`. Its answers are those of the
 * OpenAI mode for the same prompt (same model, same faults, the same verdict
 * object for a verdict prompt), so a session mixing both kinds of dev miner agrees.
 */
import type { Context, Hono } from "hono";
import { NeuroShardInferenceRequestSchema } from "../../domain/schemas/neuroshard.ts";
import { type DevMinerBehaviour, usageToReport } from "./behaviour.ts";
import { asksForJsonObject, countTokens, generate, jsonAnswer } from "./model.ts";

export type NeuroShardNodeOptions = {
  /** The node's role in the NeuroShard network. */
  role?: "driver" | "worker" | "validator";
  /** The model layers this node holds. */
  layers?: readonly number[];
  /** The model's layer count it reports at `GET /api/v1/layers` (`total_layers`); the seed's 32 unless set. */
  totalLayers?: number;
  /**
   * The training report it answers at `GET /api/training/global` (the
   * seed's shape), as configured: a dev node trains nothing, so a test gives
   * it the report it should make. None: 404, and its status says it does not train.
   */
  training?: Readonly<Record<string, unknown>>;
};

type NeuroShardContext = {
  name: string;
  token: string | undefined;
  node: NeuroShardNodeOptions;
  behaviour: () => DevMinerBehaviour;
  dice: (behaviour: DevMinerBehaviour) => "error" | "wrong" | "correct";
  record: (path: string, body: unknown) => number;
  /** Registers a hung request's release, for close(). */
  hang: (release: () => void) => () => void;
};

/** The seed's model: 32 transformer layers of 512 MB each. */
const MODEL_LAYERS = 32;
const LAYER_MEMORY_MB = 512;

const nodeError = (code: string, message: string, details?: Record<string, unknown>) => ({ error: { code, message, ...(details ? { details } : {}) } });

/** Splits text into tokens that concatenate back to it exactly (the OpenAI mode's stream pieces). */
const tokensOf = (text: string) => text.match(/\S+\s*/g) ?? [text];

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

export function mountNeuroShard(app: Hono, ctx: NeuroShardContext) {
  const startedAt = Date.now();
  const role = ctx.node.role ?? "worker";
  const layers = ctx.node.layers ?? [0, 1, 2, 3];
  const totalLayers = ctx.node.totalLayers ?? MODEL_LAYERS;
  const training = ctx.node.training;

  // Speaking NeuroShard, it has no OpenAI routes: a router calling them is calling the wrong protocol.
  app.use("/v1/*", async (c) => c.json(nodeError("NOT_FOUND", "this node speaks the NeuroShard API (POST /api/v1/inference)"), 404));
  app.use("/api/*", async (c, next) => {
    if (ctx.token && c.req.header("authorization") !== `Bearer ${ctx.token}`) return c.json(nodeError("UNAUTHORIZED", "Invalid or expired API token"), 401);
    await next();
  });

  app.get("/api/v1/health", (c) => {
    const b = ctx.behaviour();
    const model = b.hang || b.errorRate >= 1 ? "failing" : "ok";
    return c.json({ healthy: model === "ok", checks: { model } }, model === "ok" ? 200 : 503);
  });

  app.get("/api/v1/status", (c) =>
    c.json({
      node_id: ctx.name,
      version: "dev",
      uptime_seconds: Math.floor((Date.now() - startedAt) / 1000),
      status: "running",
      role,
      layers,
      peer_count: 0,
      training: training
        ? { enabled: true, epoch: null, step: training["global_steps"] ?? null, loss: (training["local"] as { current_loss?: number } | undefined)?.current_loss ?? null }
        : { enabled: false, epoch: null, step: null, loss: null },
    }),
  );

  app.get("/api/training/global", (c) => (training ? c.json(training) : c.json(nodeError("NOT_FOUND", "this node does not train"), 404)));

  app.get("/api/v1/layers", (c) =>
    c.json({
      layers: layers.map((index) => ({ index, type: "transformer", memory_mb: LAYER_MEMORY_MB, status: "active" })),
      total_layers: totalLayers,
      my_layer_count: layers.length,
    }),
  );

  app.post("/api/v1/inference", async (c: Context) => {
    const received = Date.now();
    const raw = await c.req.json().catch(() => undefined);
    const n = ctx.record(c.req.path, raw);
    const parsed = NeuroShardInferenceRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return c.json(nodeError("INVALID_REQUEST", issue?.message ?? "invalid request", { field: issue?.path.join(".") ?? "" }), 400);
    }
    const body = parsed.data;
    const signal = c.req.raw.signal;
    const b = ctx.behaviour();
    if (b.contextWords > 0 && countTokens(body.prompt) > b.contextWords) {
      return c.json(nodeError("CONTEXT_LENGTH_EXCEEDED", `the prompt is longer than this model's context of ${b.contextWords} words`), 400);
    }
    if (b.poison && body.prompt.includes(b.poison)) return c.json(nodeError("INTERNAL_ERROR", "the model crashed on this prompt"), 500);
    if (b.hang) {
      await new Promise<void>((resolve) => {
        const forget = ctx.hang(resolve);
        signal.addEventListener("abort", () => {
          forget();
          resolve();
        });
      });
      return c.json(nodeError("UNAVAILABLE", "request abandoned"), 503);
    }
    await sleep(b.latencyMs, signal);
    const fate = ctx.dice(b);
    if (fate === "error") return c.json(nodeError("INTERNAL_ERROR", "dev miner injected failure"), 500);

    const variant = fate === "wrong" ? `wrong:${b.colludeGroup || ctx.name}` : "correct";
    // A prompt asking for one JSON object (validate, factcheck) gets it, as the OpenAI mode's JSON mode does.
    const generated = asksForJsonObject(body.prompt)
      ? { text: jsonAnswer({ prompt: body.prompt, maxTokens: body.max_tokens, variant, verdict: b.verdict }), truncated: false }
      : generate({ prompt: body.prompt, maxTokens: body.max_tokens, variant });
    const text = generated.text + (fate === "correct" ? b.appendText : "");
    const finishReason = generated.truncated ? "length" : "stop";
    const usage = usageToReport(b, { prompt_tokens: countTokens(body.prompt), completion_tokens: countTokens(text) });
    const id = `inf_${ctx.name}_${n}`;

    if (body.stream) {
      const encoder = new TextEncoder();
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          const send = (data: unknown) => controller.enqueue(encoder.encode(`data: ${JSON.stringify(data)}\n\n`));
          const tokens = tokensOf(text);
          for (const [index, token] of tokens.entries()) {
            if (signal.aborted) break;
            send({ token, index });
            await sleep(b.streamChunkDelayMs, signal);
          }
          if (!signal.aborted) send({ token: "[DONE]", finish_reason: finishReason, usage });
          controller.close();
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
    }
    const inferenceMs = Date.now() - received;
    return c.json({
      id,
      text,
      tokens_generated: usage.completion_tokens,
      finish_reason: finishReason,
      usage,
      // A dev node charges nothing.
      cost: { amount: 0, currency: "NEURO" },
      timing: { queue_ms: 0, inference_ms: inferenceMs, total_ms: Date.now() - received },
    });
  });
}
