import type { Env } from "../env";
import type { ParkedUsage } from "../../durable-objects/quota";
import { ledgerStub, quotaStub } from "../../domain/objects/stubs";
import { costMicros, type Price } from "../../domain/gateway/gateway-config";
import { type CachedKey, forgetKey, release, rememberKey } from "./key-cache";
import type { KeyState } from "../../domain/gateway/key-state";
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

/** Where a customer's usage goes: its Ledger, and the parking place if the Ledger fails. */
export type UsageSinks = {
  /** Records a batch, each record once per request id; the fresh state of each key in it (null once revoked). */
  record(usages: readonly ParkedUsage[]): Promise<{ states: Record<string, KeyState | null> }>;
  park(usage: ParkedUsage): Promise<void>;
};

/** The customer's Ledger; each key's Quota object for parking. */
export function usageSinks(env: Env, customerId: string): UsageSinks {
  return {
    record: async (usages) => ledgerStub(env, customerId).recordUsages(usages),
    park: async (usage) => quotaStub(env, `key:${usage.key_id}`).parkUsage(customerId, usage),
  };
}

/** Adds tokens used to a key's per-minute token window, in its Quota object (see token-reports.ts). */
export const chargeTokenWindow = (env: Env) => async (keyId: string, tokens: number) => quotaStub(env, `key:${keyId}`).charge("tokens", 60, tokens);

/** Where a request's usage ended up. */
export type Settled = "recorded" | "parked" | "lost";

/** A request's usage to bill, with the isolate's reservation it releases. */
export type Bill = Pick<Billable, "requestId" | "cached" | "reservation"> & { usage: ParkedUsage };

/**
 * Bills a batch of one customer's requests after their answers (run under
 * waitUntil, see usage-batches.ts). The Ledger is tried `policy.attempts`
 * times; it records once per request id, so a retry after a lost reply bills
 * nothing twice. If it still fails, each record is parked in its key's Quota
 * object (once per request id), whose alarm brings it to the Ledger later.
 * The isolate's reservations are released either way; the Ledger's answer
 * (each key's state with these charges) refreshes the isolate's cache.
 */
export async function settleUsage(sinks: UsageSinks, bills: readonly Bill[], policy: RetryPolicy = BILLING_RETRY, sleep?: (ms: number) => Promise<void>): Promise<Settled[]> {
  const releaseAll = () => {
    for (const b of bills) release(b.cached, b.reservation);
  };
  try {
    const { states } = await retrying(() => sinks.record(bills.map((b) => b.usage)), policy, sleep);
    releaseAll();
    for (const b of bills) {
      const state = states[b.usage.key_id];
      if (state) rememberKey(b.cached.hash, state);
      else forgetKey(b.cached.hash);
    }
    return bills.map((): Settled => "recorded");
  } catch (err) {
    console.error(
      "recording usage failed; parking it",
      bills.map((b) => b.requestId),
      err,
    );
    releaseAll();
    // The charges are not in any state this isolate holds: ask the Ledger again next time.
    for (const b of bills) forgetKey(b.cached.hash);
    return await Promise.all(
      bills.map((b) =>
        retrying(() => sinks.park(b.usage), policy, sleep).then(
          (): Settled => "parked",
          (parkErr: unknown): Settled => {
            console.error("parking usage failed: this charge is lost", b.requestId, parkErr);
            return "lost";
          },
        ),
      ),
    );
  }
}
