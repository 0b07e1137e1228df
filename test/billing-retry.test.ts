import { describe, expect, it } from "vitest";
import type { ParkedUsage } from "../durable-objects/quota";
import { settleUsage, type UsageSinks } from "../workers/gateway/billing";
import { cachedKey, pendingMicros, RESERVATION_MAX_MS, rememberKey, reserve } from "../workers/gateway/key-cache";
import type { KeyState } from "../domain/gateway/key-state";
import { retrying } from "../workers/gateway/retry";
import { billAfterResponse, USAGE_BATCH_MAX } from "../workers/gateway/usage-batches";
import { reportTokens } from "../workers/gateway/token-reports";

const state = (version: number, spentMicros: number): KeyState => ({
  version,
  key: { id: "key_1", customerId: "c1", allowedModels: ["*"], requestsPerMinute: 60, tokensPerMinute: 1000, spendLimitMicros: null, spentMicros, scopes: ["completions"] },
  customer: { billing: "prepaid", balanceMicros: 1000 - spentMicros },
});
const usage: ParkedUsage = {
  request_id: "r1",
  key_id: "key_1",
  model: "default",
  router_pool: "local",
  session_id: 0,
  task_id: 0,
  prompt_tokens: 1,
  completion_tokens: 2,
  latency_ms: 3,
  status: "ok",
  error_code: null,
  cost_micros: 5,
};

/** Sinks that fail the first `failures` Ledger calls, and remember what reached them. */
function fakeSinks(failures: { record: number; park?: number }) {
  const seen = { recordCalls: 0, recorded: [] as string[][], parked: [] as string[] };
  const sinks: UsageSinks = {
    record: async (usages) => {
      seen.recordCalls++;
      if (seen.recordCalls <= failures.record) throw new Error("Network connection lost.");
      seen.recorded.push(usages.map((u) => u.request_id));
      return { states: { key_1: state(2, 5) } };
    },
    park: async (u) => {
      if (seen.parked.length + 1 <= (failures.park ?? 0)) {
        seen.parked.push("failed");
        throw new Error("Network connection lost.");
      }
      seen.parked.push(u.request_id);
    },
  };
  return { sinks, seen };
}

describe("retrying", () => {
  it("retries with doubling waits and throws the last error after the last attempt", async () => {
    const waits: number[] = [];
    let calls = 0;
    const failing = retrying(
      async () => {
        calls++;
        throw new Error(`try ${calls}`);
      },
      { attempts: 3, firstDelayMs: 100 },
      async (ms) => {
        waits.push(ms);
      },
    );
    await expect(failing).rejects.toThrow("try 3");
    expect(waits).toEqual([100, 200]);
    expect(await retrying(async () => "ok", { attempts: 3, firstDelayMs: 100 })).toBe("ok");
  });
});

describe("billing after the response", () => {
  const noWait = async () => {};

  it("records once after a transient Ledger failure, releases the reservation and keeps the Ledger's fresh state", async () => {
    const cached = rememberKey("hash-transient", state(1, 0));
    const reservation = reserve(cached, 40);
    const { sinks, seen } = fakeSinks({ record: 1 });
    expect(await settleUsage(sinks, [{ requestId: "r1", cached, reservation, usage }], { attempts: 3, firstDelayMs: 1 }, noWait)).toEqual(["recorded"]);
    expect(seen).toEqual({ recordCalls: 2, recorded: [["r1"]], parked: [] });
    const after = cachedKey("hash-transient");
    expect(after).toMatchObject({ state: { version: 2, key: { spentMicros: 5 } } });
    expect(after && pendingMicros(after)).toBe(0);
  });

  it("parks the record when the Ledger keeps failing, and forgets the key's state", async () => {
    const cached = rememberKey("hash-down", state(1, 0));
    const reservation = reserve(cached, 40);
    const { sinks, seen } = fakeSinks({ record: 99, park: 1 });
    expect(await settleUsage(sinks, [{ requestId: "r1", cached, reservation, usage }], { attempts: 3, firstDelayMs: 1 }, noWait)).toEqual(["parked"]);
    expect(seen.recordCalls).toBe(3);
    expect(seen.parked).toEqual(["failed", "r1"]);
    expect(pendingMicros(cached)).toBe(0);
    expect(cachedKey("hash-down")).toBeUndefined();
  });

  it("bills a batch in one Ledger call, and parks each record of a batch the Ledger refuses", async () => {
    const cached = rememberKey("hash-batch", state(1, 0));
    const bills = ["b1", "b2", "b3"].map((requestId) => ({ requestId, cached, reservation: reserve(cached, 40), usage: { ...usage, request_id: requestId } }));
    const ok = fakeSinks({ record: 0 });
    expect(await settleUsage(ok.sinks, bills, { attempts: 3, firstDelayMs: 1 }, noWait)).toEqual(["recorded", "recorded", "recorded"]);
    expect(ok.seen).toEqual({ recordCalls: 1, recorded: [["b1", "b2", "b3"]], parked: [] });
    expect(pendingMicros(cached)).toBe(0);

    const down = fakeSinks({ record: 99 });
    expect(await settleUsage(down.sinks, bills, { attempts: 2, firstDelayMs: 1 }, noWait)).toEqual(["parked", "parked", "parked"]);
    expect(down.seen.recordCalls).toBe(2);
    expect(down.seen.parked).toEqual(["b1", "b2", "b3"]);
  });

  it("stops counting a reservation whose billing never came once a task can no longer be running", () => {
    const cached = rememberKey("hash-abandoned", state(1, 0));
    const now = Date.now();
    reserve(cached, 40, now);
    expect(pendingMicros(cached, now + RESERVATION_MAX_MS - 1)).toBe(40);
    expect(pendingMicros(cached, now + RESERVATION_MAX_MS)).toBe(0);
  });

  it("never lets an older Ledger state replace a newer one", () => {
    rememberKey("hash-order", state(5, 50));
    rememberKey("hash-order", state(4, 40));
    expect(cachedKey("hash-order")?.state.version).toBe(5);
  });
});

describe("usage batches", () => {
  it("sends a customer's records of one moment in one batch, and a full batch at once", async () => {
    const cached = rememberKey("hash-batches", state(1, 0));
    const bill = (requestId: string) => ({ requestId, cached, reservation: reserve(cached, 40), usage: { ...usage, request_id: requestId } });
    const { sinks, seen } = fakeSinks({ record: 0 });
    let built = 0;
    const sinksOnce = () => {
      built++;
      return sinks;
    };
    const three = ["m1", "m2", "m3"].map((id) => billAfterResponse("batch-customer-1", sinksOnce, bill(id)));
    expect(await Promise.all(three)).toEqual(["recorded", "recorded", "recorded"]);
    expect(seen.recorded).toEqual([["m1", "m2", "m3"]]);
    expect(built).toBe(1);
    // Another customer's records are another batch (another Ledger).
    const other = fakeSinks({ record: 0 });
    expect(await billAfterResponse("batch-customer-2", () => other.sinks, bill("o1"))).toBe("recorded");
    expect(other.seen.recorded).toEqual([["o1"]]);

    // One record past a full batch opens the next.
    const ids = Array.from({ length: USAGE_BATCH_MAX + 1 }, (_, i) => `f${i}`);
    expect(new Set(await Promise.all(ids.map((id) => billAfterResponse("batch-customer-1", () => sinks, bill(id)))))).toEqual(new Set(["recorded"]));
    expect(seen.recorded.slice(1).map((batch) => batch.length)).toEqual([USAGE_BATCH_MAX, 1]);
    expect(pendingMicros(cached)).toBe(0);
  });
});

describe("token reports", () => {
  it("adds a key's tokens of one report period to its window in one charge, and never throws a failed charge", async () => {
    const charges: [string, number][] = [];
    const charge = async (keyId: string, tokens: number) => {
      charges.push([keyId, tokens]);
    };
    await Promise.all([reportTokens("key_t1", 10, charge), reportTokens("key_t1", 5, charge), reportTokens("key_t2", 7, charge)]);
    expect(charges.sort()).toEqual([
      ["key_t1", 15],
      ["key_t2", 7],
    ]);
    await expect(
      reportTokens("key_t3", 1, async () => {
        throw new Error("Network connection lost.");
      }),
    ).resolves.toBeUndefined();
  });
});
