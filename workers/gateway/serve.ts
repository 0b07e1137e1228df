import { z } from "zod";
import type { Context } from "hono";
import { loadConfig } from "../../domain/config/config";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../../domain/errors";
import { surfaceError } from "../http/surface-error";
import type { CompletionRequest, CompletionResponse } from "../../domain/schemas/completion";
import { dispatch, dispatchStream } from "./dispatch";
import { costMicros, gatewayConfig, modelAlias, own, priceFor, type Pool } from "../../domain/gateway/gateway-config";
import { type Billable, chargeTokenWindow, type Outcome, usageOf, usageSinks } from "./billing";
import { reportTokens } from "./token-reports";
import { billAfterResponse } from "./usage-batches";
import { type CachedKey, cachedKey, forgetKey, pendingMicros, release, rememberKey, reserve } from "./key-cache";
import { admissionVerdict } from "../../domain/gateway/key-state";
import { KEY_SCOPES } from "../../domain/gateway/key-scopes";
import { sseEventTransform } from "../http/sse-transform";
import { customerOfKey, DEV_CUSTOMER_ID, DEV_CUSTOMER_KEY, hashKey } from "../../domain/gateway/keys";
import { ledgerStub, quotaStub } from "../../domain/objects/stubs";
import type { BlockDecision } from "../../durable-objects/quota";
import { blockSize, keepGranted, rateLimited, takeHeld } from "./rate-blocks";
import type { Caller } from "../../domain/sessions/caller";

/** A completion as the gateway receives it, before it knows pool and session. */
export type GatewayWork = Omit<CompletionRequest, "session_id" | "stream"> & { model: string };

export type Served = {
  requestId: string;
  model: string;
  pool: string;
  completion: CompletionResponse;
};

const estimateTokens = (work: GatewayWork) => Math.ceil((work.prompt ?? work.messages?.map((m) => m.content).join("\n") ?? "").length / 4);

type Admitted = Omit<Billable, "pool"> & {
  pool: Pool;
  request: CompletionRequest;
  /** The customer: the namespace its request ids live in. */
  caller: Caller;
};

/**
 * Admission of one gateway request, in order: the model alias, the key
 * (its state as the customer middleware found it, cached or from the Ledger:
 * model allowed, spend limit and balance less this isolate's unbilled
 * requests), the rate limits (requests this isolate holds for the key, else
 * a block from its Quota object). Nothing is dispatched before all of them
 * pass. On a warm isolate most requests make no call here at all.
 */
async function admit(c: Context<AppEnv>, work: GatewayWork): Promise<Admitted> {
  const key = c.get("customerKey");
  if (!key) throw new ApiError(401, "invalid_api_key", "missing customer API key");
  const config = gatewayConfig(c.env);
  const alias = modelAlias(config, work.model);
  if (!alias) {
    throw new ApiError(404, "model_not_found", `model ${work.model} does not exist`, { models: Object.keys(config.models) });
  }
  const pool = own(config.pools, alias.pool);
  if (!pool) throw new ApiError(503, "router_misconfigured", `model ${work.model} names pool ${alias.pool}, which is not configured`);
  const price = priceFor(config, work.model);
  const estimateMicros = costMicros(price, estimateTokens(work), work.max_tokens ?? 256);
  const cached = c.get("customerAuth") ?? (await keyAuthorization(c, key));
  const refused = admissionVerdict(cached.state, { model: work.model, estimateMicros }, pendingMicros(cached));
  if (refused) throw ApiError.from(refused);
  const { id: keyId, requestsPerMinute, tokensPerMinute } = cached.state.key;
  // Reserved before the Quota call, so concurrent requests of this isolate see each other's worst case.
  const reservation = reserve(cached, estimateMicros);
  let decision: BlockDecision = { ok: true, granted: 1, windowEndsAt: 0 };
  try {
    if (!takeHeld(keyId)) {
      decision = await quotaStub(c.env, `key:${keyId}`).reserveBlock(
        { name: "requests", limit: requestsPerMinute, windowS: 60 },
        [{ name: "tokens", limit: tokensPerMinute, windowS: 60, cost: 0 }],
        blockSize(requestsPerMinute),
      );
      if (decision.ok) keepGranted(keyId, decision);
    }
  } catch (err) {
    release(cached, reservation);
    throw err;
  }
  if (!decision.ok) {
    release(cached, reservation);
    throw rateLimited(decision);
  }
  const requestId = work.request_id ?? `req_${crypto.randomUUID().replaceAll("-", "")}`;
  const { model: _model, ...rest } = work;
  return {
    requestId,
    customerId: key.customerId,
    keyId,
    model: work.model,
    pool,
    sessionId: alias.session_id,
    request: { ...rest, request_id: requestId, stream: false },
    price,
    caller: { kind: "customer", id: key.customerId },
    started: Date.now(),
    cached,
    reservation,
  };
}

/** What the gateway reads from a completion stream's events to bill it: ids, the final usage, an error. */
const StreamEventSchema = z.object({
  session_id: z.number().int().optional(),
  task_id: z.number().int().optional(),
  model: z.string().optional(),
  usage: z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int() }).optional(),
  error: z.object({ code: z.string().optional() }).optional(),
});

/**
 * Bills an admitted request after the answer: the record is fixed now and
 * written under waitUntil in its customer's batch; its tokens join the key's
 * next token-window report.
 */
function billLater(c: Context<AppEnv>, a: Admitted, status: "ok" | "failed", o: Outcome) {
  const usage = usageOf({ ...a, pool: a.pool.name }, status, o);
  const { env } = c;
  c.executionCtx.waitUntil(billAfterResponse(a.customerId, () => usageSinks(env, a.customerId), { requestId: a.requestId, cached: a.cached, reservation: a.reservation, usage }));
  const tokens = usage.prompt_tokens + usage.completion_tokens;
  if (tokens > 0) c.executionCtx.waitUntil(reportTokens(a.keyId, tokens, chargeTokenWindow(env)));
}

/** Every failure after admission names the request id the gateway assigned, so the client can look it up. */
const withRequestId = (err: unknown, requestId: string) => surfaceError(err).withDetails({ request_id: requestId });

/** One gateway request answered whole: admission, dispatch; billing follows the answer. */
export async function serveCompletion(c: Context<AppEnv>, work: GatewayWork): Promise<Served> {
  const a = await admit(c, work);
  try {
    const { completion } = await dispatch(c.env, a.pool, a.sessionId, a.request, new URL(c.req.url).origin, a.caller, { kind: "metered", price: a.price });
    billLater(c, a, "ok", { sessionId: completion.session_id, taskId: completion.task_id, usage: completion.usage });
    return { requestId: a.requestId, model: a.model, pool: a.pool.name, completion };
  } catch (err) {
    billLater(c, a, "failed", { error: err instanceof ApiError ? err.code : "internal_error" });
    throw withRequestId(err, a.requestId);
  }
}

/**
 * One gateway request answered as server-sent events, passed through as the
 * router streams them (live from the miner where the session streams live).
 * The final chunk's usage is billed once the stream has ended; `model`, if
 * given, replaces the chunks' model (OpenAI clients expect their alias).
 */
export async function serveStream(
  c: Context<AppEnv>,
  work: GatewayWork,
  options: { model?: string } = {},
): Promise<{ requestId: string; pool: string; stream: ReadableStream<Uint8Array> }> {
  const a = await admit(c, work);
  let source: ReadableStream<Uint8Array>;
  try {
    source = await dispatchStream(c.env, a.pool, a.sessionId, a.request, new URL(c.req.url).origin, a.caller, { kind: "metered", price: a.price });
  } catch (err) {
    billLater(c, a, "failed", { error: err instanceof ApiError ? err.code : "internal_error" });
    throw withRequestId(err, a.requestId);
  }
  const seen: Outcome = {};
  const tapped = source.pipeThrough(
    sseEventTransform(
      (event) => {
        const read = StreamEventSchema.safeParse(event).data;
        if (read?.session_id !== undefined) seen.sessionId = read.session_id;
        if (read?.task_id !== undefined) seen.taskId = read.task_id;
        if (read?.usage) seen.usage = read.usage;
        if (read?.error) seen.error = read.error.code ?? "stream_error";
        return options.model && read?.model !== undefined ? { ...event, model: options.model } : event;
      },
      () => billLater(c, a, seen.usage && !seen.error ? "ok" : "failed", seen),
    ),
  );
  return { requestId: a.requestId, pool: a.pool.name, stream: tapped };
}

/**
 * A key's state: from this isolate's cache while fresh (no Ledger call),
 * else read from the Ledger and cached; 401 when unknown or revoked. The
 * documented dev key is provisioned on first use outside production.
 */
export async function keyAuthorization(c: Context<AppEnv>, key: { raw: string; customerId: string; hash: string }): Promise<CachedKey> {
  const cached = cachedKey(key.hash);
  if (cached) return cached;
  const ledger = ledgerStub(c.env, key.customerId);
  let result = await ledger.keyState(key.hash);
  if ("ok" in result && result.status === 401 && key.raw === DEV_CUSTOMER_KEY && loadConfig(c.env).environment !== "production") {
    await ledger.createCustomer({ id: DEV_CUSTOMER_ID, name: "local dev customer", billing: "prepaid", balance_micros: 100_000_000 });
    // The documented dev key may do everything the seed's examples do, wallet moves included (never in production).
    await ledger.issueKey(
      { name: "dev", allowed_models: ["*"], requests_per_minute: 600, tokens_per_minute: 1_000_000, spend_limit_micros: null, scopes: [...KEY_SCOPES] },
      { secret: DEV_CUSTOMER_KEY },
    );
    result = await ledger.keyState(key.hash);
  }
  if ("ok" in result) {
    forgetKey(key.hash);
    throw ApiError.from(result);
  }
  return rememberKey(key.hash, result);
}

export async function customerKeyFrom(header: string | undefined, production: boolean) {
  const raw = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1];
  if (!raw) return null;
  if (production && raw === DEV_CUSTOMER_KEY) return null;
  const customerId = customerOfKey(raw);
  return customerId ? { raw, customerId, hash: await hashKey(raw) } : null;
}
