import { z } from "zod";
import type { MinerRequest } from "../schemas/completion.ts";
import type { MinerTarget } from "../schemas/miner.ts";
import { MinerCallError } from "./miner-error.ts";
import { readJsonEvents } from "./event-stream.ts";
import { callNeuroShard, probeNeuroShard } from "./neuroshard-protocol.ts";
import type { NeuroShardNodeReport, NeuroShardTrainingReport } from "../schemas/neuroshard.ts";
import { SIGNATURE_FIELD, SIGNATURE_HEADER } from "./result-signature.ts";
import { MAX_MINER_RESPONSE_BYTES, minerEndpoint, postToMiner, readJsonBody, tooLarge } from "./miner-http.ts";
import { type CallMinerOptions, type MinerOutput, ReportedFigure, reportedUsage } from "./miner-output.ts";

/** Usage as a miner reports it; a malformed report reads as none, and the answer stands (usage is the router's count). */
const UsageSchema = z.object({ prompt_tokens: ReportedFigure, completion_tokens: ReportedFigure }).transform(reportedUsage).nullish().catch(null);
/** At least one item, typed so that the first is known to exist. */
const nonEmpty = <T extends z.ZodType>(item: T) => z.tuple([item], item);
const CompletionBody = z.object({
  choices: nonEmpty(z.object({ text: z.string(), finish_reason: z.string().nullish() })),
  usage: UsageSchema,
});
const ChatBody = z.object({
  choices: nonEmpty(z.object({ message: z.object({ content: z.string().nullable() }), finish_reason: z.string().nullish() })),
  usage: UsageSchema,
});
/** What a miner's JSON body answers: its text, finish reason and reported usage. */
type Answer = Pick<MinerOutput, "text" | "finishReason" | "usage">;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isFinish = (v: unknown) => v === undefined || v === null || typeof v === "string";
const isFigure = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;
const isChoice = (kind: MinerRequest["kind"], c: unknown) =>
  isRecord(c) &&
  isFinish(c["finish_reason"]) &&
  (kind === "chat" ? isRecord(c["message"]) && (typeof c["message"]["content"] === "string" || c["message"]["content"] === null) : typeof c["text"] === "string");

/**
 * The answer of a body `CompletionBody`/`ChatBody` accept, read by hand: every
 * task reads one, and the schemas' parse copies each object it checks. It
 * accepts what they accept and reads what they give (`UsageSchema` included: a
 * malformed usage is none); a body it does not accept goes to the schema,
 * whose verdict stands.
 */
export function answerOf(kind: MinerRequest["kind"], json: unknown): Answer | undefined {
  const choices = isRecord(json) ? json["choices"] : undefined;
  if (Array.isArray(choices) && choices.length > 0 && choices.every((c) => isChoice(kind, c))) {
    const first = choices[0] as { text?: string; message?: { content: string | null }; finish_reason?: string | null };
    const usage = (json as Record<string, unknown>)["usage"];
    return {
      text: kind === "chat" ? (first.message?.content ?? "") : (first.text ?? ""),
      finishReason: first.finish_reason ?? null,
      usage:
        isRecord(usage) && isFigure(usage["prompt_tokens"]) && isFigure(usage["completion_tokens"])
          ? reportedUsage({ prompt_tokens: usage["prompt_tokens"], completion_tokens: usage["completion_tokens"] })
          : null,
    };
  }
  return answerBySchema(kind, json);
}

/** The answer as `CompletionBody`/`ChatBody` read it, or undefined where they refuse the body: what `answerOf` must agree with. */
export function answerBySchema(kind: MinerRequest["kind"], json: unknown): Answer | undefined {
  if (kind === "chat") {
    const parsed = ChatBody.safeParse(json);
    if (!parsed.success) return undefined;
    const choice = parsed.data.choices[0];
    return { text: choice.message.content ?? "", finishReason: choice.finish_reason ?? null, usage: parsed.data.usage ?? null };
  }
  const parsed = CompletionBody.safeParse(json);
  if (!parsed.success) return undefined;
  const choice = parsed.data.choices[0];
  return { text: choice.text, finishReason: choice.finish_reason ?? null, usage: parsed.data.usage ?? null };
}

const OffchainAccepted = z.object({ delivery: z.literal("offchain") });

/** The OpenAI-compatible request body a miner receives. */
export function minerRequestBody(request: MinerRequest, stream = false): Record<string, unknown> {
  const { kind, prompt, messages, ...params } = request;
  return kind === "chat" ? { ...params, messages, stream } : { ...params, prompt, stream };
}

/**
 * One call to one miner over its OpenAI-compatible API, with its bearer
 * credential. Aborting `signal` (deadline, or the task ending) cancels it.
 */
export async function callMiner(target: MinerTarget, request: MinerRequest, options: CallMinerOptions): Promise<MinerOutput> {
  if (target.protocol === "neuroshard") return callNeuroShard(target, request, options);
  const started = Date.now();
  const path = request.kind === "chat" ? "v1/chat/completions" : "v1/completions";
  const body = minerRequestBody(request, options.onDelta !== undefined);
  const response = await postToMiner(target, path, options.extension ? { ...body, ...options.extension } : body, options);
  options.onAck?.();
  if (response.status === 202 && options.awaitDelivery) {
    const accepted = OffchainAccepted.safeParse(await response.json().catch(() => null));
    if (!accepted.success) throw new MinerCallError("invalid_response", `miner ${target.id} answered 202 without off-chain delivery`);
    const delivered = await options.awaitDelivery();
    return { ...delivered, latencyMs: Date.now() - started };
  }
  if (options.onDelta && (response.headers.get("content-type") ?? "").includes("text/event-stream")) {
    return readStream(target, request, response, options.signal, options.onDelta, started);
  }
  const json = await readJsonBody(target, response, options.signal);
  const latencyMs = Date.now() - started;
  const answer = answerOf(request.kind, json);
  if (!answer) throw new MinerCallError("invalid_response", request.kind === "chat" ? `miner ${target.id} sent no chat completion` : `miner ${target.id} sent no completion`);
  const signature = response.headers.get(SIGNATURE_HEADER);
  return signature ? { ...answer, latencyMs, signature } : { ...answer, latencyMs };
}

const StreamChunk = z.object({
  choices: z
    .array(
      z.object({
        text: z.string().nullish(),
        delta: z.object({ content: z.string().nullish() }).nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .default([]),
  usage: UsageSchema,
  /** A streamed result's signature comes in a chunk once the text is known (headers went out before it). */
  [SIGNATURE_FIELD]: z.string().max(200).nullish(),
});

/** Reads an OpenAI-style event stream, passing each piece of text on as it comes. */
async function readStream(
  target: MinerTarget,
  request: MinerRequest,
  response: Response,
  signal: AbortSignal,
  onDelta: (piece: string) => void,
  started: number,
): Promise<MinerOutput> {
  let text = "";
  let finishReason: string | null = null;
  let usage: MinerOutput["usage"] = null;
  let signature: string | undefined = response.headers.get(SIGNATURE_HEADER) ?? undefined;
  const done = await readJsonEvents(target, response, signal, (json) => {
    const parsed = StreamChunk.safeParse(json);
    if (!parsed.success) throw new MinerCallError("invalid_response", `miner ${target.id} streamed an unexpected event`);
    const choice = parsed.data.choices[0];
    const piece = (request.kind === "chat" ? choice?.delta?.content : choice?.text) ?? "";
    if (piece) {
      text += piece;
      if (text.length > MAX_MINER_RESPONSE_BYTES) throw tooLarge(target);
      onDelta(piece);
    }
    if (choice?.finish_reason) finishReason = choice.finish_reason;
    if (parsed.data.usage) usage = parsed.data.usage;
    signature = parsed.data[SIGNATURE_FIELD] ?? signature;
    return undefined;
  });
  if (!done && finishReason === null) throw new MinerCallError("invalid_response", `miner ${target.id} ended its stream early`);
  return { text, finishReason, usage, latencyMs: Date.now() - started, ...(signature ? { signature } : {}) };
}

/** Checks that a miner is up and serving, with its credential (cron health check). */
export async function probeMiner(
  target: MinerTarget,
  options: { timeoutMs: number; fetcher?: typeof fetch },
): Promise<{ ok: true; latencyMs: number; models: string[]; node?: NeuroShardNodeReport; training?: NeuroShardTrainingReport } | { ok: false; error: string }> {
  if (target.protocol === "neuroshard") return probeNeuroShard(target, options);
  const fetcher = options.fetcher ?? fetch;
  const started = Date.now();
  try {
    const response = await fetcher(minerEndpoint(target.url, "v1/models"), {
      headers: { authorization: `Bearer ${target.credential}` },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return { ok: false, error: `GET /v1/models answered ${response.status}` };
    }
    const body = z.object({ data: z.array(z.object({ id: z.string() })) }).safeParse(await response.json());
    if (!body.success) return { ok: false, error: "GET /v1/models sent no model list" };
    return { ok: true, latencyMs: Date.now() - started, models: body.data.data.map((m) => m.id) };
  } catch (err) {
    return { ok: false, error: err instanceof Error && err.name === "TimeoutError" ? "health check timed out" : "miner unreachable" };
  }
}
