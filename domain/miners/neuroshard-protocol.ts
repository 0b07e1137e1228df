import type { z } from "zod";
import type { MinerRequest } from "../schemas/completion.ts";
import type { MinerTarget } from "../schemas/miner.ts";
import {
  NeuroShardDoneEventSchema,
  NeuroShardHealthSchema,
  NeuroShardMinerAnswerSchema,
  type NeuroShardNodeReport,
  NeuroShardLayersReportSchema,
  NeuroShardNodeReportSchema,
  type NeuroShardTrainingReport,
  NeuroShardTrainingReportSchema,
  NeuroShardTokenEventSchema,
} from "../schemas/neuroshard.ts";
import { type CallMinerOptions, type MinerOutput, reportedUsage } from "./miner-output.ts";
import { MAX_MINER_RESPONSE_BYTES, minerEndpoint, postToMiner, readJsonBody, readLimited } from "./miner-http.ts";
import { readJsonEvents } from "./event-stream.ts";
import { MinerCallError } from "./miner-error.ts";

/**
 * A NeuroShard node has no chat endpoint: a chat request goes as one prompt,
 * the messages' contents a line each (as an OpenAI-compatible dev miner reads
 * them), so the two kinds of miner answer the same task alike.
 */
function promptOf(request: MinerRequest): string {
  if (request.kind === "chat") return (request.messages ?? []).map((m) => m.content).join("\n");
  return request.prompt ?? "";
}

/** The body a NeuroShard node receives at `POST /api/v1/inference`: only what the task set, so the node's defaults apply to the rest. */
export function neuroShardRequestBody(request: MinerRequest, stream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { prompt: promptOf(request), stream };
  if (request.max_tokens !== undefined) body["max_tokens"] = request.max_tokens;
  if (request.temperature !== undefined) body["temperature"] = request.temperature;
  if (request.top_p !== undefined) body["top_p"] = request.top_p;
  if (request.top_k !== undefined) body["top_k"] = request.top_k;
  if (request.stop !== undefined) body["stop"] = typeof request.stop === "string" ? [request.stop] : request.stop;
  return body;
}

/**
 * One call to one NeuroShard node, with its bearer credential: the same
 * result as `callMiner` gives for an OpenAI-compatible server, so consensus,
 * reputation and streaming treat both alike. Off-chain delivery is an
 * OpenAI-miner extension and is not offered here.
 */
export async function callNeuroShard(target: MinerTarget, request: MinerRequest, options: CallMinerOptions): Promise<MinerOutput> {
  const started = Date.now();
  // Only the bearer credential: a node's API takes no x-cortensor-* signing headers.
  const response = await postToMiner(target, "api/v1/inference", neuroShardRequestBody(request, options.onDelta !== undefined), {
    signal: options.signal,
    ...(options.fetcher ? { fetcher: options.fetcher } : {}),
  });
  options.onAck?.();
  if (options.onDelta && (response.headers.get("content-type") ?? "").includes("text/event-stream")) {
    return readTokenStream(target, response, options.signal, options.onDelta, started);
  }
  const json = await readJsonBody(target, response, options.signal);
  const parsed = NeuroShardMinerAnswerSchema.safeParse(json);
  if (!parsed.success) throw new MinerCallError("invalid_response", `miner ${target.id} sent no inference result`);
  const usage = parsed.data.usage ? reportedUsage(parsed.data.usage) : null;
  return { text: parsed.data.text, finishReason: parsed.data.finish_reason ?? null, usage, latencyMs: Date.now() - started };
}

/**
 * Reads a node's `data: {"token", "index"}` events up to its `[DONE]` event.
 * Tokens must come in order, each index the next: a gap or a repeat means
 * text was lost or doubled, and the result is refused rather than passed on.
 */
async function readTokenStream(target: MinerTarget, response: Response, signal: AbortSignal, onDelta: (piece: string) => void, started: number): Promise<MinerOutput> {
  let text = "";
  let next = 0;
  let finishReason: string | null = null;
  let usage: MinerOutput["usage"] = null;
  const invalid = (why: string) => new MinerCallError("invalid_response", `miner ${target.id} ${why}`);
  const done = await readJsonEvents(target, response, signal, (json) => {
    const end = NeuroShardDoneEventSchema.safeParse(json);
    if (end.success) {
      finishReason = end.data.finish_reason ?? null;
      if (end.data.usage) usage = reportedUsage(end.data.usage);
      return true;
    }
    const token = NeuroShardTokenEventSchema.safeParse(json);
    if (!token.success) throw invalid("streamed an unexpected event");
    if (token.data.index !== next) throw invalid(`streamed token ${token.data.index} where ${next} was due`);
    next++;
    if (!token.data.token) return undefined;
    text += token.data.token;
    if (text.length > MAX_MINER_RESPONSE_BYTES) throw invalid(`sent a response larger than ${MAX_MINER_RESPONSE_BYTES} bytes`);
    onDelta(token.data.token);
    return undefined;
  });
  if (!done) throw invalid("ended its stream before [DONE]");
  return { text, finishReason, usage, latencyMs: Date.now() - started };
}

/**
 * A NeuroShard node's health: `GET /api/v1/health` with its credential,
 * healthy only when the node says so; then its `GET /api/v1/status` (role,
 * layers, training) and `GET /api/v1/layers` (each layer's type and memory,
 * the model's layer count), kept by the registry as the node reports them. A node
 * that is healthy but sends no readable status is healthy without a report.
 */
export async function probeNeuroShard(
  target: MinerTarget,
  options: { timeoutMs: number; fetcher?: typeof fetch },
): Promise<{ ok: true; latencyMs: number; models: string[]; node?: NeuroShardNodeReport; training?: NeuroShardTrainingReport } | { ok: false; error: string }> {
  const fetcher = options.fetcher ?? fetch;
  const started = Date.now();
  try {
    const response = await fetcher(minerEndpoint(target.url, "api/v1/health"), {
      headers: { authorization: `Bearer ${target.credential}` },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    const latencyMs = Date.now() - started;
    // A node that is up but unhealthy may say so with a 503 and the same body.
    const body = NeuroShardHealthSchema.safeParse(await response.json().catch(() => null));
    if (!body.success) return { ok: false, error: `GET /api/v1/health answered ${response.status} without a health report` };
    if (!response.ok || !body.data.healthy) {
      const failing = Object.entries(body.data.checks).filter(([, state]) => state !== "ok");
      return { ok: false, error: `node reports unhealthy${failing.length ? `: ${failing.map(([check, state]) => `${check} ${state}`).join(", ")}` : ""}` };
    }
    const [status, layers, training] = await Promise.all([
      nodeReport(target, fetcher, options.timeoutMs, "api/v1/status", NeuroShardNodeReportSchema),
      nodeReport(target, fetcher, options.timeoutMs, "api/v1/layers", NeuroShardLayersReportSchema),
      nodeReport(target, fetcher, options.timeoutMs, "api/training/global", NeuroShardTrainingReportSchema),
    ]);
    // Its layers' details are kept with its status, of the layers its status names.
    const node = status && layers ? { ...status, layer_details: layers.layers.filter((l) => status.layers.includes(l.index)), total_layers: layers.total_layers ?? null } : status;
    // A node serves the network's one model; the registry keeps the models it was registered with.
    return { ok: true, latencyMs, models: [], ...(node ? { node } : {}), ...(training ? { training } : {}) };
  } catch (err) {
    return { ok: false, error: err instanceof Error && err.name === "TimeoutError" ? "health check timed out" : "miner unreachable" };
  }
}

/** One of a node's own reports (its status, its training), or undefined when it sends none that reads. */
async function nodeReport<T>(target: MinerTarget, fetcher: typeof fetch, timeoutMs: number, path: string, schema: z.ZodType<T>): Promise<T | undefined> {
  try {
    const response = await fetcher(minerEndpoint(target.url, path), {
      headers: { authorization: `Bearer ${target.credential}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    return schema.safeParse(JSON.parse(await readLimited(target, response))).data;
  } catch {
    return undefined;
  }
}
