import { z } from "zod";
import type { MinerRequest } from "../schemas/completion";
import type { MinerTarget } from "../schemas/miner";
import { abortedOr, MinerCallError } from "./miner-error";
import { readJsonEvents } from "./event-stream";
import { callNeuroShard, probeNeuroShard } from "./neuroshard-protocol";
import type { NeuroShardNodeReport, NeuroShardTrainingReport } from "../schemas/neuroshard";
import { SIGNATURE_FIELD, SIGNATURE_HEADER } from "./result-signature";
import type { SignatureStatus } from "./signed-call";

export type MinerOutput = {
  text: string;
  finishReason: string | null;
  /** The usage the miner reported: kept for audit (`metering/usage-audit.ts`), never billed (the router counts its own). */
  usage: ReportedUsage | null;
  latencyMs: number;
  /** The miner's signature of this result, as it sent it (header, last streamed chunk, or off-chain delivery); checked by `signed-call.ts`. */
  signature?: string;
  /** Set by `signed-call.ts` when the session asks for signatures: the signature checked out, or there was none to check. */
  signatureStatus?: SignatureStatus;
};

export type CallMinerOptions = {
  signal: AbortSignal;
  /** Called once the miner answered with a successful status (it accepted the work). */
  onAck?: () => void;
  /** When given, the miner is asked to stream and each piece of text is passed here as it arrives. */
  onDelta?: (piece: string) => void;
  /** Extra top-level fields for the request body (the off-chain extension). */
  extension?: Record<string, unknown>;
  /**
   * When given, a miner may answer 202 `{"delivery": "offchain"}` and deliver
   * its result later through the router; this waits for that delivery.
   */
  awaitDelivery?: () => Promise<Omit<MinerOutput, "latencyMs">>;
  fetcher?: typeof fetch;
  /** Extra request headers (what the miner is asked to sign: `result-signature.ts`). */
  headers?: Record<string, string>;
};

export type ReportedUsage = { prompt_tokens: number; completion_tokens: number };

/** One reported figure as kept: a whole number within the safe range (a report beyond it reads as the largest safe figure: still a misreport, never a float that breaks sums). */
const keptFigure = (n: number) => Math.min(Math.floor(n), Number.MAX_SAFE_INTEGER);

/** A miner's reported figures as the router keeps them (`keptFigure`). */
export const reportedUsage = (u: ReportedUsage): ReportedUsage => ({ prompt_tokens: keptFigure(u.prompt_tokens), completion_tokens: keptFigure(u.completion_tokens) });

/** Any non-negative finite figure (zod's int() stops at 2^53: a lie that large must still be kept and judged). */
export const ReportedFigure = z.number().nonnegative();

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
const OffchainAccepted = z.object({ delivery: z.literal("offchain") });

/**
 * The most a miner's answer may weigh. 32 768 tokens of text are about
 * 130 KB; a body past this is refused, not read, so a byzantine miner cannot
 * exhaust the Worker's memory nor a Session row (SQLite rows stop at 2 MB).
 */
export const MAX_MINER_RESPONSE_BYTES = 1_048_576;

const tooLarge = (target: MinerTarget) => new MinerCallError("invalid_response", `miner ${target.id} sent a response larger than ${MAX_MINER_RESPONSE_BYTES} bytes`);

/** A body as text, read only up to the limit. */
export async function readLimited(target: MinerTarget, response: Response): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > MAX_MINER_RESPONSE_BYTES) {
    await response.body?.cancel();
    throw tooLarge(target);
  }
  const body = response.body;
  if (!body) return "";
  // A declared length within the limit is one native read; the runtime stops at the declared length.
  if (response.headers.has("content-length")) return response.text();
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text + decoder.decode();
    bytes += value.byteLength;
    if (bytes > MAX_MINER_RESPONSE_BYTES) {
      await reader.cancel().catch(() => {});
      throw tooLarge(target);
    }
    text += decoder.decode(value, { stream: true });
  }
}

/** Joins a path onto a miner base URL that may itself carry a path prefix. */
export function minerEndpoint(base: string, path: string): URL {
  const url = new URL(base);
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return new URL(path.replace(/^\//, ""), url);
}

/**
 * POSTs a JSON body to a miner's path with its bearer credential. A network
 * failure (or the call's own timeout or cancellation) and a non-2xx status
 * are `MinerCallError`s; the body of a refusal is not read.
 */
export async function postToMiner(
  target: MinerTarget,
  path: string,
  body: unknown,
  options: { signal: AbortSignal; headers?: Record<string, string>; fetcher?: typeof fetch },
): Promise<Response> {
  const fetcher = options.fetcher ?? fetch;
  let response: Response;
  try {
    response = await fetcher(minerEndpoint(target.url, path), {
      method: "POST",
      headers: { ...options.headers, "content-type": "application/json", authorization: `Bearer ${target.credential}` },
      body: JSON.stringify(body),
      signal: options.signal,
    });
  } catch (cause) {
    throw abortedOr(options.signal, new MinerCallError("network", `miner ${target.id} unreachable`, undefined, { cause }));
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new MinerCallError("http", `miner ${target.id} answered ${response.status}`, response.status);
  }
  return response;
}

/** A miner's answer as JSON, read only up to the limit; a body cut off or not JSON is the miner's failure. */
export async function readJsonBody(target: MinerTarget, response: Response, signal: AbortSignal): Promise<unknown> {
  let raw: string;
  try {
    raw = await readLimited(target, response);
  } catch (cause) {
    if (cause instanceof MinerCallError) throw cause;
    throw abortedOr(signal, new MinerCallError("network", `miner ${target.id} body broke off`, undefined, { cause }));
  }
  try {
    return JSON.parse(raw);
  } catch (cause) {
    throw new MinerCallError("invalid_response", `miner ${target.id} sent a body that is not JSON`, undefined, { cause });
  }
}

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
  const response = await postToMiner(target, path, { ...minerRequestBody(request, options.onDelta !== undefined), ...options.extension }, options);
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
  const signature = response.headers.get(SIGNATURE_HEADER);
  const signed = signature ? { signature } : {};
  if (request.kind === "chat") {
    const parsed = ChatBody.safeParse(json);
    if (!parsed.success) throw new MinerCallError("invalid_response", `miner ${target.id} sent no chat completion`);
    const choice = parsed.data.choices[0];
    return { text: choice.message.content ?? "", finishReason: choice.finish_reason ?? null, usage: parsed.data.usage ?? null, latencyMs, ...signed };
  }
  const parsed = CompletionBody.safeParse(json);
  if (!parsed.success) throw new MinerCallError("invalid_response", `miner ${target.id} sent no completion`);
  const choice = parsed.data.choices[0];
  return { text: choice.text, finishReason: choice.finish_reason ?? null, usage: parsed.data.usage ?? null, latencyMs, ...signed };
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
