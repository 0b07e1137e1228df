import type { Env } from "../env";
import type { ParkedUsage } from "../../durable-objects/quota";
import { ledgerStub, quotaStub } from "../stubs";
import { costMicros, type Price } from "./gateway-config";
import { type CachedKey, forgetKey, release, rememberKey } from "./key-cache";
import type { KeyState } from "./key-state";
import { BILLING_RETRY, retrying, type RetryPolicy } from "./retry";

/** What billing needs of an admitted request. */
export type Billable = {
  requestId: string;
  customerId: string;
  keyId: string;
  model: string;
  pool: string;
  sessionId: number;
  price: Price;
  started: number;
  /** The key's cache entry, holding this request's reservation of its worst-case cost. */
  cached: CachedKey;
  reservation: number;
};

export type Outcome = {
  sessionId?: number | undefined;
  taskId?: number | undefined;
  usage?: { prompt_tokens: number; completion_tokens: number } | undefined;
  error?: string;
};

/** The usage record of a request, fixed when its answer is known (latency included). */
export function usageOf(a: Billable, status: "ok" | "failed", o: Outcome): ParkedUsage {
  const prompt = o.usage?.prompt_tokens ?? 0;
  const completion = o.usage?.completion_tokens ?? 0;
  return {
    request_id: a.requestId,
    key_id: a.keyId,
    model: a.model,
    router_pool: a.pool,
    session_id: o.sessionId ?? a.sessionId,
    task_id: o.taskId ?? null,
    prompt_tokens: prompt,
    completion_tokens: completion,
    latency_ms: Date.now() - a.started,
    status,
    error_code: o.error ?? null,
    cost_micros: status === "ok" ? costMicros(a.price, prompt, completion) : 0,
  };
}

/** Where a request's usage goes: the Ledger, the parking place if the Ledger fails, the token rate window. */
export type UsageSinks = {
  record(usage: ParkedUsage): Promise<{ state: KeyState | null }>;
  park(usage: ParkedUsage): Promise<void>;
  chargeTokens(tokens: number): Promise<void>;
};

/** The customer's Ledger; the key's Quota object for parking and for the token window. */
export function usageSinks(env: Env, customerId: string, keyId: string): UsageSinks {
  const quota = quotaStub(env, `key:${keyId}`);
  return {
    record: async (usage) => ledgerStub(env, customerId).recordUsage(usage),
    park: async (usage) => quota.parkUsage(customerId, usage),
    chargeTokens: async (tokens) => quota.charge("tokens", 60, tokens),
  };
}

/** Where a request's usage ended up. */
export type Settled = "recorded" | "parked" | "lost";

/**
 * Bills a request after its answer (run under waitUntil). The Ledger is
 * tried `policy.attempts` times; it records once per request id, so a retry
 * after a lost reply bills nothing twice. If it still fails, the record is
 * parked in the key's Quota object (once per request id), whose alarm brings
 * it to the Ledger later. The isolate's reservation is released either way;
 * the Ledger's answer (the key's state with this charge) refreshes the
 * isolate's cache.
 */
export async function billAfterResponse(
  sinks: UsageSinks,
  a: Pick<Billable, "requestId" | "cached" | "reservation">,
  usage: ParkedUsage,
  policy: RetryPolicy = BILLING_RETRY,
  sleep?: (ms: number) => Promise<void>,
): Promise<Settled> {
  const tokens = usage.prompt_tokens + usage.completion_tokens;
  const charged = tokens > 0 ? sinks.chargeTokens(tokens).catch((err: unknown) => console.error("charging tokens to the rate window failed", err)) : undefined;
  let settled: Settled = "recorded";
  try {
    const recorded = await retrying(() => sinks.record(usage), policy, sleep);
    release(a.cached, a.reservation);
    if (recorded.state) rememberKey(a.cached.hash, recorded.state);
    else forgetKey(a.cached.hash);
  } catch (err) {
    console.error("recording usage failed; parking it", a.requestId, err);
    release(a.cached, a.reservation);
    // The charge is not in any state this isolate holds: ask the Ledger again next time.
    forgetKey(a.cached.hash);
    settled = await retrying(() => sinks.park(usage), policy, sleep).then(
      (): Settled => "parked",
      (parkErr: unknown): Settled => {
        console.error("parking usage failed: this charge is lost", a.requestId, parkErr);
        return "lost";
      },
    );
  }
  await charged;
  return settled;
}
