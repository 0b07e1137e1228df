/**
 * The dev miner: a TEST DOUBLE of an external GPU inference server. It speaks
 * the OpenAI-compatible API that vLLM, llama.cpp, Ollama and friends speak,
 * with a deterministic model and configurable latency and faults.
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { Context } from "hono";
import { DEFAULT_BEHAVIOUR, faultDice, mergeBehaviour, type DevMinerBehaviour, usageToReport } from "./behaviour.ts";
import { countTokens, embed, generate, jsonAnswer } from "./model.ts";
import { mountNeuroShard, type NeuroShardNodeOptions } from "./neuroshard.ts";
import { bearerIdentity, signerKeyFor, signResult } from "./sign.ts";
import { SIGNATURE_FIELD, SIGNATURE_HEADER } from "../../domain/miners/result-signature.ts";
import { deliverResult, fetchPayload, type OffchainExtension, offchainOf, payloadText } from "../../miner-node/offchain.ts";

export type DevMinerOptions = Partial<DevMinerBehaviour> & {
  name?: string;
  port?: number;
  /** Bearer credential the router must present; none = open. */
  token?: string;
  /** Models served; "*" serves any model name asked for (handy when tests pool miners by model). */
  models?: string[];
  seed?: number;
  /** `neuroshard`: speaks the NeuroShard node API (tools/dev-miner/neuroshard.ts) instead of the OpenAI one. */
  protocol?: "openai" | "neuroshard";
  /** Its role and layers as a NeuroShard node. */
  node?: NeuroShardNodeOptions;
  /** A private key (0x + 64 hex) to sign results with (EIP-191), when the router asks; none = never signs. */
  signerKey?: `0x${string}`;
};

export type DevMiner = { url: string; port: number; name: string; close(): Promise<void> };

/** `signing`: the `x-cortensor-*` headers the router sent (what it asked to be signed). */
type Recent = { path: string; at: string; body: unknown; signing: Record<string, string> };

const openAiError = (message: string, type: string, code: string | null = null) => ({ error: { message, type, code } });

function promptOf(body: Record<string, unknown>, chat: boolean): string | undefined {
  if (chat) {
    const messages = body["messages"];
    if (!Array.isArray(messages) || messages.length === 0) return undefined;
    const parts = messages.map((m) => (m && typeof m === "object" && typeof (m as { content?: unknown }).content === "string" ? (m as { content: string }).content : undefined));
    return parts.every((p) => p !== undefined) ? parts.join("\n") : undefined;
  }
  const prompt = body["prompt"];
  if (typeof prompt === "string" && prompt.length > 0) return prompt;
  if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((p) => typeof p === "string")) return prompt.join("\n");
  return undefined;
}

/** Pads text with filler words to at least `bytes` bytes (the "huge body" fault). */
function pad(text: string, bytes: number): string {
  if (bytes <= text.length) return text;
  const filler = " filler";
  return text + filler.repeat(Math.ceil((bytes - text.length) / filler.length));
}

/** Splits text into pieces that concatenate back to it exactly. */
const pieces = (text: string) => text.match(/\S+\s*/g) ?? [text];

export function createDevMinerApp(options: DevMinerOptions = {}) {
  const name = options.name ?? "dev-miner";
  const models = options.models ?? ["dev-model"];
  let behaviour = mergeBehaviour(DEFAULT_BEHAVIOUR, options as Record<string, unknown>);
  const dice = faultDice(options.seed ?? 1);
  const stats = { requests: 0, recent: [] as Recent[] };
  const hanging = new Set<() => void>();
  const held = new Set<() => void>();
  const app = new Hono();
  /** Counts a request and keeps it among the last 100 (GET /dev/stats); answers its number. */
  const record = (path: string, body: unknown, signing: Record<string, string> = {}) => {
    stats.requests++;
    stats.recent.push({ path, at: new Date().toISOString(), body, signing });
    if (stats.recent.length > 100) stats.recent.shift();
    return stats.requests;
  };

  app.get("/health", (c) => c.json({ status: "ok", name }));
  if (options.protocol === "neuroshard") {
    mountNeuroShard(app, {
      name,
      token: options.token,
      node: options.node ?? {},
      behaviour: () => behaviour,
      dice,
      record,
      hang: (release) => {
        hanging.add(release);
        return () => hanging.delete(release);
      },
    });
  }

  app.use("/v1/*", async (c, next) => {
    // The token, or the token naming an identity to sign as (`<token>~<identity>`, sign.ts).
    if (options.token && bearerIdentity(c.req.header("authorization"), options.token) === undefined) {
      return c.json(openAiError("invalid or missing API key", "invalid_request_error", "invalid_api_key"), 401);
    }
    await next();
  });
  app.use("/dev/*", async (c, next) => {
    if (options.token && c.req.header("authorization") !== `Bearer ${options.token}`) {
      return c.json(openAiError("invalid or missing API key", "invalid_request_error", "invalid_api_key"), 401);
    }
    await next();
  });

  app.get("/v1/models", (c) => c.json({ object: "list", data: models.filter((m) => m !== "*").map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: name })) }));

  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      if (ms <= 0) return resolve();
      const timer = setTimeout(resolve, ms);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });

  async function complete(c: Context, chat: boolean) {
    let body: Record<string, unknown>;
    try {
      body = (await c.req.json()) as Record<string, unknown>;
    } catch {
      return c.json(openAiError("body is not JSON", "invalid_request_error"), 400);
    }
    record(c.req.path, body, Object.fromEntries(Object.entries(c.req.header()).filter(([h]) => h.startsWith("x-cortensor-"))));

    const model = typeof body["model"] === "string" ? body["model"] : models[0]!;
    if (!models.includes(model) && !models.includes("*")) return c.json(openAiError(`model ${model} does not exist`, "invalid_request_error", "model_not_found"), 404);
    const offchain = offchainOf(body);
    if (offchain && behaviour.deferResults) {
      // Accept now, deliver later through the router (errors are the router's to notice: it times the task out).
      const header = (h: string) => c.req.header(h);
      void deliverLater(offchain, body, header).catch((err) => console.error(`dev miner ${name}: off-chain delivery failed: ${err}`));
      return c.json({ status: "accepted", delivery: "offchain" }, 202);
    }
    let prompt = promptOf(body, chat);
    if (offchain) {
      try {
        prompt = await fetchPrompt(offchain);
      } catch (err) {
        return c.json(openAiError(`could not fetch the payload: ${err}`, "server_error"), 502);
      }
    }
    if (prompt === undefined) {
      return c.json(openAiError(chat ? "messages are required" : "prompt is required", "invalid_request_error"), 400);
    }
    const signal = c.req.raw.signal;
    const current = behaviour;
    if (current.contextWords > 0 && countTokens(prompt) > current.contextWords) {
      return c.json(openAiError(`the prompt is longer than this model's context of ${current.contextWords} words`, "invalid_request_error", "context_length_exceeded"), 400);
    }
    if (current.poison && prompt.includes(current.poison)) return c.json(openAiError("the model crashed on this prompt", "server_error"), 500);
    if (current.hang) {
      await new Promise<void>((resolve) => {
        const done = () => {
          hanging.delete(done);
          resolve();
        };
        hanging.add(done);
        signal.addEventListener("abort", done);
      });
      return c.json(openAiError("request abandoned", "server_error"), 503);
    }
    if (current.hold) {
      await new Promise<void>((resolve) => {
        const done = () => {
          held.delete(done);
          resolve();
        };
        held.add(done);
        signal.addEventListener("abort", done);
      });
      if (signal.aborted) return c.json(openAiError("request abandoned", "server_error"), 503);
    }
    await sleep(current.latencyMs, signal);
    const fate = dice(current);
    if (fate === "error") return c.json(openAiError("dev miner injected failure", "server_error"), 500);
    if (current.garbage) return c.body("<html><body>\u0000\u00ff not a completion {{{", 200, { "content-type": "application/json" });

    const maxTokens = typeof body["max_tokens"] === "number" ? body["max_tokens"] : undefined;
    const variant = fate === "wrong" ? `wrong:${current.colludeGroup || name}` : "correct";
    const jsonMode = (body["response_format"] as { type?: unknown } | undefined)?.type === "json_object";
    const generated = jsonMode ? { text: jsonAnswer({ prompt, maxTokens, variant, verdict: current.verdict }), truncated: false } : generate({ prompt, maxTokens, variant });
    const truncated = generated.truncated;
    const text = pad(generated.text + (fate === "correct" ? current.appendText : ""), current.hugeBodyBytes);
    const finishReason = truncated ? "length" : "stop";
    const usage = usageToReport(current, { prompt_tokens: countTokens(prompt), completion_tokens: countTokens(text) });
    const signature = await signResult(signerKeyFor(options.signerKey, options.token, c.req.header("authorization")), current.signAs, (h) => c.req.header(h), text);
    const id = `${chat ? "chatcmpl" : "cmpl"}-${name}-${stats.requests}`;
    const created = Math.floor(Date.now() / 1000);

    if (body["stream"] === true) {
      const encoder = new TextEncoder();
      const chunkDelay = current.streamChunkDelayMs;
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          const send = (data: unknown) => controller.enqueue(encoder.encode(`data: ${JSON.stringify(data)}\n\n`));
          const parts = pieces(text);
          for (let i = 0; i < parts.length; i++) {
            if (signal.aborted) break;
            const piece = parts[i]!;
            send(
              chat
                ? {
                    id,
                    object: "chat.completion.chunk",
                    created,
                    model,
                    choices: [{ index: 0, delta: i === 0 ? { role: "assistant", content: piece } : { content: piece }, finish_reason: null }],
                  }
                : { id, object: "text_completion", created, model, choices: [{ index: 0, text: piece, finish_reason: null, logprobs: null }] },
            );
            await sleep(chunkDelay, signal);
          }
          send(
            chat
              ? { id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta: {}, finish_reason: finishReason }], usage, [SIGNATURE_FIELD]: signature }
              : {
                  id,
                  object: "text_completion",
                  created,
                  model,
                  choices: [{ index: 0, text: "", finish_reason: finishReason, logprobs: null }],
                  usage,
                  [SIGNATURE_FIELD]: signature,
                },
          );
          controller.enqueue(encoder.encode("data: [DONE]\n\n"));
          controller.close();
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
    }
    return c.json(
      chat
        ? { id, object: "chat.completion", created, model, choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: finishReason }], usage }
        : { id, object: "text_completion", created, model, choices: [{ index: 0, text, finish_reason: finishReason, logprobs: null }], usage },
      200,
      signature ? { [SIGNATURE_HEADER]: signature } : {},
    );
  }

  app.post("/v1/embeddings", async (c) => {
    const body = (await c.req.json().catch(() => null)) as { input?: unknown; model?: unknown } | null;
    const input = typeof body?.input === "string" ? [body.input] : body?.input;
    if (!Array.isArray(input) || !input.every((t) => typeof t === "string")) {
      return c.json(openAiError("input must be a string or an array of strings", "invalid_request_error"), 400);
    }
    return c.json({
      object: "list",
      model: typeof body?.model === "string" ? body.model : "dev-embedding",
      data: input.map((text, index) => ({ object: "embedding", index, embedding: embed(text) })),
      usage: { prompt_tokens: input.reduce((n, t) => n + countTokens(t), 0), total_tokens: input.reduce((n, t) => n + countTokens(t), 0) },
    });
  });

  /** The task's prompt, fetched with its assignment token (the shared off-chain code of the miner node); a chat's messages a line each. */
  const fetchPrompt = async (offchain: OffchainExtension) => payloadText(await fetchPayload(offchain));

  async function deliverLater(offchain: OffchainExtension, body: Record<string, unknown>, header: (name: string) => string | undefined) {
    await new Promise((r) => setTimeout(r, behaviour.latencyMs));
    const prompt = await fetchPrompt(offchain);
    const maxTokens = typeof body["max_tokens"] === "number" ? body["max_tokens"] : undefined;
    const fate = dice(behaviour);
    const variant = fate === "wrong" ? `wrong:${name}` : "correct";
    const jsonMode = (body["response_format"] as { type?: unknown } | undefined)?.type === "json_object";
    const text = jsonMode ? jsonAnswer({ prompt, maxTokens, variant, verdict: behaviour.verdict }) : generate({ prompt, maxTokens, variant }).text;
    await deliverResult(offchain, {
      text,
      usage: usageToReport(behaviour, { prompt_tokens: countTokens(prompt), completion_tokens: countTokens(text) }),
      signature: await signResult(signerKeyFor(options.signerKey, options.token, header("authorization")), behaviour.signAs, header, text),
    });
  }

  app.post("/v1/completions", (c) => complete(c, false));
  app.post("/v1/chat/completions", (c) => complete(c, true));

  app.get("/dev/stats", (c) => c.json({ name, requests: stats.requests, recent: stats.recent }));
  app.post("/dev/reset-stats", (c) => {
    stats.requests = 0;
    stats.recent = [];
    return c.json({ ok: true });
  });
  // Lets every held request (behaviour `hold`) answer; says how many there were.
  app.post("/dev/release", (c) => {
    const waiting = [...held];
    for (const done of waiting) done();
    return c.json({ released: waiting.length });
  });
  app.post("/dev/config", async (c) => {
    const patch = (await c.req.json().catch(() => ({}))) as Record<string, unknown>;
    behaviour = mergeBehaviour(behaviour, patch);
    return c.json(behaviour);
  });

  /** Ends every hung or held request (used by close()). */
  const releaseHanging = () => {
    for (const done of [...hanging, ...held]) done();
  };
  return { app, name, releaseHanging };
}

/** Starts a dev miner on 127.0.0.1 (port 0 picks a free one). */
export function startDevMiner(options: DevMinerOptions = {}): Promise<DevMiner> {
  const { app, name, releaseHanging } = createDevMinerApp(options);
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        port: info.port,
        name,
        close: () =>
          new Promise<void>((done) => {
            releaseHanging();
            const http = server as Server;
            http.close(() => done());
            http.closeAllConnections?.();
          }),
      });
    }) as Server;
    server.once("error", reject);
  });
}
