import type { Context } from "hono";
import type { LedgerFailure, Authorized } from "../../durable-objects/ledger";
import type { QuotaDecision } from "../../durable-objects/quota";
import { loadConfig } from "../config/config";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/errors";
import type { CompletionRequest, CompletionResponse } from "../schemas/completion";
import { dispatch } from "./dispatch";
import { costMicros, gatewayConfig, priceFor } from "./gateway-config";
import { customerOfKey, DEV_CUSTOMER_ID, DEV_CUSTOMER_KEY, hashKey } from "./keys";
import { ledgerStub, quotaStub } from "./stubs";

/** A completion as the gateway receives it, before it knows pool and session. */
export type GatewayWork = Omit<CompletionRequest, "session_id" | "stream"> & { model: string };

export type Served = {
  requestId: string;
  model: string;
  pool: string;
  completion: CompletionResponse;
};

const estimateTokens = (work: GatewayWork) => Math.ceil((work.prompt ?? work.messages?.map((m) => m.content).join("\n") ?? "").length / 4);

/**
 * One gateway request, in order: the key (Ledger: known, not revoked, model
 * allowed, spend limit and balance), the rate limits (Quota), the model
 * alias, the dispatch, then usage and billing, once per request id.
 */
export async function serveCompletion(c: Context<AppEnv>, work: GatewayWork): Promise<Served> {
  const key = c.get("customerKey");
  if (!key) throw new ApiError(401, "invalid_api_key", "missing customer API key");
  const config = gatewayConfig(c.env);
  const alias = config.models[work.model];
  if (!alias) {
    throw new ApiError(404, "model_not_found", `model ${work.model} does not exist`, { models: Object.keys(config.models) });
  }
  const pool = config.pools[alias.pool]!;
  const price = priceFor(config, work.model);
  const estimate = costMicros(price, estimateTokens(work), work.max_tokens ?? 256);

  const ledger = ledgerStub(c.env, key.customerId);
  const auth = (await authorizeKey(c, key, { model: work.model, estimateMicros: estimate })) as Authorized;
  const quota = quotaStub(c.env, `key:${auth.key.id}`);
  const decision = (await quota.consume([
    { name: "requests", limit: auth.key.requestsPerMinute, windowS: 60, cost: 1 },
    { name: "tokens", limit: auth.key.tokensPerMinute, windowS: 60, cost: 0 },
  ])) as QuotaDecision;
  if (!decision.ok) {
    throw new ApiError(429, "rate_limited", `rate limit reached (${decision.rule} per minute: ${decision.limit})`, { retry_after: decision.retryAfterS, limit: decision.rule }, {
      "Retry-After": String(decision.retryAfterS),
    });
  }

  const requestId = work.request_id ?? `req_${crypto.randomUUID().replaceAll("-", "")}`;
  const { model: _model, ...rest } = work;
  const started = Date.now();
  const usage = (status: "ok" | "failed", extra: { completion?: CompletionResponse; error?: string }) => ({
    request_id: requestId,
    key_id: auth.key.id,
    model: work.model,
    router_pool: pool.name,
    session_id: extra.completion?.session_id ?? alias.session_id,
    task_id: extra.completion?.task_id ?? null,
    prompt_tokens: extra.completion?.usage.prompt_tokens ?? 0,
    completion_tokens: extra.completion?.usage.completion_tokens ?? 0,
    latency_ms: Date.now() - started,
    status,
    error_code: extra.error ?? null,
    cost_micros: extra.completion ? costMicros(price, extra.completion.usage.prompt_tokens, extra.completion.usage.completion_tokens) : 0,
  });
  try {
    const { completion } = await dispatch(c.env, pool, alias.session_id, { ...rest, request_id: requestId, stream: false }, new URL(c.req.url).origin);
    await ledger.recordUsage(usage("ok", { completion }));
    c.executionCtx.waitUntil(quota.charge("tokens", 60, completion.usage.total_tokens).catch((err) => console.error("token accounting failed", err)));
    return { requestId, model: work.model, pool: pool.name, completion };
  } catch (err) {
    const code = err instanceof ApiError ? err.code : "internal_error";
    await ledger.recordUsage(usage("failed", { error: code })).catch(() => {});
    if (!(err instanceof ApiError)) throw err;
    const details = { ...(typeof err.details === "object" && err.details ? err.details : {}), request_id: requestId };
    throw new ApiError(err.status, err.code, err.message, details, err.headers);
  }
}

/** The Ledger's verdict on a key; the documented dev key is provisioned on first use outside production. */
export async function authorizeKey(
  c: Context<AppEnv>,
  key: { raw: string; customerId: string; hash: string },
  request: { model: string; estimateMicros: number },
): Promise<Authorized> {
  const ledger = ledgerStub(c.env, key.customerId);
  let result = (await ledger.authorize(key.hash, request)) as Authorized | LedgerFailure;
  if (!result.ok && result.status === 401 && key.raw === DEV_CUSTOMER_KEY && loadConfig(c.env).environment !== "production") {
    await ledger.createCustomer({ id: DEV_CUSTOMER_ID, name: "local dev customer", billing: "prepaid", balance_micros: 100_000_000 });
    await ledger.issueKey({ name: "dev", allowed_models: ["*"], requests_per_minute: 600, tokens_per_minute: 1_000_000, spend_limit_micros: null }, { secret: DEV_CUSTOMER_KEY });
    result = (await ledger.authorize(key.hash, request)) as Authorized | LedgerFailure;
  }
  if (!result.ok) throw new ApiError(result.status, result.body.error.code, result.body.error.message, result.body.error.details);
  return result;
}

export async function customerKeyFrom(header: string | undefined, production: boolean) {
  const raw = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1];
  if (!raw) return null;
  if (production && raw === DEV_CUSTOMER_KEY) return null;
  const customerId = customerOfKey(raw);
  return customerId ? { raw, customerId, hash: await hashKey(raw) } : null;
}
