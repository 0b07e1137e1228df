/**
 * The node's OpenAI-compatible routes: the router's calls, forwarded to the
 * upstream server, with what the upstream cannot add: the result signature
 * (the `x-cortensor-signature` header, or a last chunk of a stream carrying
 * `cortensor_signature`) and the off-chain extension (the prompt fetched by
 * URN, the result delivered to the router).
 */
import type { Context, Hono } from "hono";
import { SIGNATURE_FIELD, SIGNATURE_HEADER } from "../domain/miners/result-signature.ts";
import type { Gate } from "./gate.ts";
import type { Log } from "./log.ts";
import { deliverResult, fetchPayload, type OffchainExtension, offchainOf, payloadText } from "./offchain.ts";
import { type AskedClaim, askedClaim, type MessageSigner, signResultText } from "./result-signer.ts";
import { event, readEvents } from "./sse.ts";
import { answerText, callUpstream, chunkPiece, type Upstream } from "./upstream.ts";

export type NodeContext = {
  upstream: Upstream;
  /** The miner's key, as a signer (its key never leaves it). */
  signer: MessageSigner;
  /** The router's signer address, lowercase: the only router whose claims the node signs. */
  routerSigner: string;
  models: readonly string[];
  gate: Gate;
  log: Log;
};

const openAiError = (message: string, type: string, code: string | null = null) => ({ error: { message, type, code } });

/** How long a deferred off-chain task may run at the upstream. */
const OFFCHAIN_TIMEOUT_MS = 10 * 60_000;

export function mountOpenAi(app: Hono, ctx: NodeContext) {
  app.get("/v1/models", async (c) => {
    try {
      return passThrough(await callUpstream(ctx.upstream, "models", { signal: c.req.raw.signal }));
    } catch {
      return c.json(openAiError("the upstream server is unreachable", "server_error", "upstream_unreachable"), 502);
    }
  });

  app.post("/v1/embeddings", async (c) => {
    const body = await c.req.json().catch(() => undefined);
    if (!body || typeof body !== "object") return c.json(openAiError("body is not a JSON object", "invalid_request_error"), 400);
    const release = ctx.gate.enter();
    if (!release) return busy(c);
    try {
      return passThrough(await callUpstream(ctx.upstream, "embeddings", { body, signal: c.req.raw.signal }));
    } catch {
      return c.json(openAiError("the upstream server is unreachable", "server_error", "upstream_unreachable"), 502);
    } finally {
      release();
    }
  });

  app.post("/v1/completions", (c) => complete(c, ctx, false));
  app.post("/v1/chat/completions", (c) => complete(c, ctx, true));
}

const busy = (c: Context) => c.json(openAiError("this miner is at its max_concurrency", "rate_limit_error", "busy"), 429, { "retry-after": "1" });

/** An upstream answer as it came (its status, type and body). */
async function passThrough(res: Response): Promise<Response> {
  return new Response(await res.arrayBuffer(), { status: res.status, headers: { "content-type": res.headers.get("content-type") ?? "application/json" } });
}

async function complete(c: Context, ctx: NodeContext, chat: boolean): Promise<Response> {
  const raw = (await c.req.json().catch(() => undefined)) as unknown;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return c.json(openAiError("body is not a JSON object", "invalid_request_error"), 400);
  const { cortensor: _extension, ...body } = raw as Record<string, unknown>;
  const model = body["model"] ?? ctx.models[0];
  if (typeof model !== "string" || !ctx.models.includes(model))
    return c.json(openAiError(`this miner does not serve model ${String(model)}`, "invalid_request_error", "model_not_found"), 404);
  body["model"] = model;

  const claim = askedClaim((h) => c.req.header(h));
  if (claim && claim.router.toLowerCase() !== ctx.routerSigner) {
    return c.json(openAiError(`this miner signs results for router ${ctx.routerSigner} only`, "invalid_request_error", "wrong_router"), 403);
  }
  const release = ctx.gate.enter();
  if (!release) return busy(c);
  const abort = new AbortController();
  const signal = c.req.raw.signal;
  const onAbort = () => abort.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  const done = () => {
    signal.removeEventListener("abort", onAbort);
    release();
  };
  try {
    const ext = offchainOf(raw as Record<string, unknown>);
    if (ext) {
      try {
        Object.assign(body, promptFields(await fetchPayload(ext, abort.signal), chat));
      } catch (err) {
        done();
        ctx.log.error(`task ${ext.task_id}: could not fetch its payload: ${err instanceof Error ? err.message : String(err)}`);
        return c.json(openAiError("could not fetch the task's payload from the router", "server_error", "payload_unavailable"), 502);
      }
      if (body["stream"] !== true) {
        // Accepted now; the result goes to the router when the upstream has it.
        signal.removeEventListener("abort", onAbort);
        void deliverLater(ctx, ext, body, chat, claim).finally(release);
        return c.json({ status: "accepted", delivery: "offchain" }, 202);
      }
    }
    const upstream = await callUpstream(ctx.upstream, chat ? "chat/completions" : "completions", { body, signal: abort.signal });
    if (body["stream"] === true && upstream.ok && (upstream.headers.get("content-type") ?? "").includes("text/event-stream") && upstream.body) {
      return signedStream(ctx, upstream.body, chat, claim, abort, done);
    }
    const text = await upstream.text();
    done();
    if (!upstream.ok) return new Response(text, { status: upstream.status, headers: { "content-type": upstream.headers.get("content-type") ?? "application/json" } });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return c.json(openAiError("the upstream server sent a body that is not JSON", "server_error", "upstream_invalid"), 502);
    }
    const answer = answerText(json, chat);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (claim && answer !== undefined) headers[SIGNATURE_HEADER] = await signResultText(ctx.signer, claim, answer);
    return new Response(text, { status: upstream.status, headers });
  } catch (err) {
    done();
    if (abort.signal.aborted) return c.json(openAiError("request abandoned", "server_error"), 503);
    ctx.log.error(`upstream call failed: ${err instanceof Error ? err.message : String(err)}`);
    return c.json(openAiError("the upstream server is unreachable", "server_error", "upstream_unreachable"), 502);
  }
}

/** The request fields a fetched payload fills: a chat's messages, a completion's prompt. */
function promptFields(payload: Awaited<ReturnType<typeof fetchPayload>>, chat: boolean): Record<string, unknown> {
  if (chat) return { messages: payload.kind === "messages" ? payload.messages : [{ role: "user", content: payload.prompt }] };
  return { prompt: payloadText(payload) };
}

/**
 * The upstream's stream passed on event by event, unchanged; the text is
 * gathered as the router gathers it, and once the upstream is done, a last
 * chunk carries the signature of that text (`cortensor_signature`, no
 * choices: an OpenAI client reads it as an empty chunk), then `[DONE]`.
 */
function signedStream(ctx: NodeContext, body: ReadableStream<Uint8Array>, chat: boolean, claim: AskedClaim | undefined, abort: AbortController, done: () => void): Response {
  let text = "";
  let finished = false;
  let sawDone = false;
  let head: { id?: unknown; created?: unknown; model?: unknown } = {};
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        await readEvents(body, (data) => {
          if (data === "[DONE]") {
            sawDone = true;
            return;
          }
          if (sawDone) return;
          try {
            const json = JSON.parse(data) as Record<string, unknown>;
            if (head.id === undefined) head = { id: json["id"], created: json["created"], model: json["model"] };
            const { piece, finishReason } = chunkPiece(json, chat);
            text += piece;
            if (finishReason) finished = true;
          } catch {
            // Not JSON: passed on as it came; it adds no text.
          }
          controller.enqueue(event(data));
        });
        if (claim && (sawDone || finished)) {
          const signature = await signResultText(ctx.signer, claim, text);
          controller.enqueue(event(JSON.stringify({ ...head, object: chat ? "chat.completion.chunk" : "text_completion", choices: [], [SIGNATURE_FIELD]: signature })));
        }
        if (sawDone) controller.enqueue(event("[DONE]"));
        controller.close();
      } catch (err) {
        if (!abort.signal.aborted) ctx.log.error(`upstream stream broke: ${err instanceof Error ? err.message : String(err)}`);
        controller.error(err);
      } finally {
        done();
      }
    },
    cancel() {
      abort.abort();
    },
  });
  return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
}

/** An off-chain task run at the upstream and its result delivered to the router, signed when the router asked. */
async function deliverLater(ctx: NodeContext, ext: OffchainExtension, body: Record<string, unknown>, chat: boolean, claim: AskedClaim | undefined): Promise<void> {
  try {
    const res = await callUpstream(ctx.upstream, chat ? "chat/completions" : "completions", { body: { ...body, stream: false }, signal: AbortSignal.timeout(OFFCHAIN_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`the upstream answered ${res.status}`);
    const json = (await res.json()) as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } };
    const text = answerText(json, chat);
    if (!text) throw new Error("the upstream sent no text");
    const u = json.usage;
    const usage =
      typeof u?.prompt_tokens === "number" && typeof u.completion_tokens === "number" ? { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens } : undefined;
    await deliverResult(ext, { text, usage, signature: claim ? await signResultText(ctx.signer, claim, text) : undefined });
    ctx.log.info(`task ${ext.task_id} of session ${ext.session_id}: result delivered off-chain`);
  } catch (err) {
    ctx.log.error(`task ${ext.task_id} of session ${ext.session_id}: off-chain delivery failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
