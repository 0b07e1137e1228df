import { describe, expect, it } from "vitest";
import { costMicros } from "../domain/gateway/gateway-config";
import { taskFunding } from "../domain/rewards/reward-sources";
import { exactSum, MAX_MICROS, mulDiv } from "../domain/wallet/safe-micros";
import { admin, uniq, uniqSessionId } from "./helpers";
import { emissionFunding, ledgerOf } from "./sources";

/**
 * The sources model (domain/rewards/reward-sources.ts, durable-objects/wallet/sources.ts):
 * a source account grants rewards within their task's fund and its pool's day budget,
 * once by key, against the real Ledger objects.
 */

const policy = { shareBps: 2000, microsPerToken: 1, maxMicrosPerTask: 10_000, emission: { pool: "emission", budgetMicros: 1_000_000 } };
const issue = (taskKey: string, key: string, amountMicros: number, fund: number, budget: number, pool: string) => ({
  key,
  account: "acct",
  taskKey,
  amountMicros,
  funding: emissionFunding(pool, fund, budget),
});

/** A source's answer as grants (a refusal fails the test). */
function grantsOf<T>(answer: T[] | { ok: false; message: string }): T[] {
  if (!Array.isArray(answer)) throw new Error(`refused: ${answer.message}`);
  return answer;
}

describe("a task's funding", () => {
  it("is the share of a billed task's bill, from the charges or x402 source", () => {
    const metered = taskFunding(
      { usage: { prompt_tokens: 1000, completion_tokens: 500 }, billing: { kind: "metered", price: { prompt_per_1k_micros: 100, completion_per_1k_micros: 200 } } },
      policy,
    );
    expect(metered).toEqual({ source: "charges", kind: "charges", fundMicros: 40, paidMicros: 200, budgetMicros: null });
    const paid = taskFunding({ usage: { prompt_tokens: 1, completion_tokens: 1 }, billing: { kind: "paid", micros: 10_000 } }, policy);
    expect(paid).toEqual({ source: "x402", kind: "x402", fundMicros: 2000, paidMicros: 10_000, budgetMicros: null });
  });

  it("is the per-token reward capped per task from the emission pool where nobody paid; exact near 2^53", () => {
    expect(taskFunding({ usage: { prompt_tokens: 0, completion_tokens: 16 } }, policy)).toEqual({
      source: "emission",
      kind: "emission",
      fundMicros: 16,
      paidMicros: 0,
      budgetMicros: 1_000_000,
    });
    // 2^53 − 1 tokens × 10^6 micros: far past 2^53, yet the cap comes back exactly, never a rounded float.
    const huge = { usage: { prompt_tokens: 0, completion_tokens: MAX_MICROS } };
    expect(taskFunding(huge, { ...policy, microsPerToken: 1_000_000 }).fundMicros).toBe(10_000);
    expect(taskFunding(huge, { ...policy, microsPerToken: 1_000_000, maxMicrosPerTask: MAX_MICROS }).fundMicros).toBe(MAX_MICROS);
    // A count that is no safe integer earns nothing.
    expect(taskFunding({ usage: { prompt_tokens: 0, completion_tokens: 2 ** 60 } }, policy).fundMicros).toBe(0);
  });

  it("costs and shares tokens exactly in BigInt, stopping at 2^53 − 1", () => {
    const price = { prompt_per_1k_micros: 100, completion_per_1k_micros: 200 };
    expect(costMicros(price, 1, 1)).toBe(1);
    expect(costMicros(price, 10 ** 12, 10 ** 12)).toBe(300_000_000_000);
    // 2^53 − 1 tokens at 200 a thousand: 1 801 439 850 948 198.2 → rounded up, exact.
    expect(costMicros(price, 0, MAX_MICROS)).toBe(1_801_439_850_948_199);
    expect(costMicros({ prompt_per_1k_micros: 10 ** 9, completion_per_1k_micros: 0 }, MAX_MICROS, 0)).toBe(MAX_MICROS);
    expect(mulDiv(MAX_MICROS, 9_999, 10_000)).toBe(9_006_298_534_815_516);
    expect(() => exactSum("9007199254740993", "x")).toThrow(/beyond the exact range/);
  });
});

describe("a source account", () => {
  it("grants each reward once by key: a resend gets the first grant again and issues nothing more", async () => {
    const pool = uniq("pool");
    const source = ledgerOf(`source:${pool}`);
    const task = `${uniqSessionId()}:1`;
    const first = await source.issueRewards(pool, "emission", [issue(task, `${task}:a`, 60, 100, 1_000, pool), issue(task, `${task}:b`, 60, 100, 1_000, pool)]);
    // The task's fund is 100: the second reward gets what is left of it.
    expect(first).toEqual([
      { key: `${task}:a`, amountMicros: 60 },
      { key: `${task}:b`, amountMicros: 40 },
    ]);
    const again = await source.issueRewards(pool, "emission", [issue(task, `${task}:b`, 60, 100, 1_000, pool), issue(task, `${task}:a`, 60, 100, 1_000, pool)]);
    expect(again).toEqual([
      { key: `${task}:b`, amountMicros: 40 },
      { key: `${task}:a`, amountMicros: 60 },
    ]);
    // A later reward of the task cannot raise its fund.
    expect(await source.issueRewards(pool, "emission", [issue(task, `${task}:c`, 60, 1_000_000, 1_000, pool)])).toEqual([{ key: `${task}:c`, amountMicros: 0 }]);
    expect(await source.sourceFigures()).toMatchObject({ source: pool, kind: "emission", issued_micros: 100n, by_account: { acct: 100n }, overdrawn: [] });
  });

  it("holds a billed task's rewards (charges, x402) to its share of the bill, whatever the miners ask", async () => {
    for (const kind of ["charges", "x402"] as const) {
      const name = uniq(kind);
      const task = `${uniqSessionId()}:1`;
      const funding = { source: name, kind, fundMicros: 2_000, paidMicros: 10_000, budgetMicros: null };
      const answer = await ledgerOf(`source:${name}`).issueRewards(name, kind, [
        { key: `${task}:a`, account: "acct", taskKey: task, amountMicros: 1_500, funding },
        { key: `${task}:b`, account: "acct", taskKey: task, amountMicros: 1_500, funding },
      ]);
      expect(grantsOf(answer).map((g) => g.amountMicros)).toEqual([1_500, 500]);
      expect(await ledgerOf(`source:${name}`).sourceFigures()).toMatchObject({ kind, funded_micros: 10_000n, issued_micros: 2_000n, overdrawn: [] });
    }
  });

  it("pays an emission pool's day budget exactly once across concurrent sessions, then nothing", async () => {
    const pool = uniq("pool");
    const source = ledgerOf(`source:${pool}`);
    const session = uniqSessionId();
    // Twelve sessions' outboxes at once, each a task asking 100 of a 550 budget.
    const asks = Array.from({ length: 12 }, (_, i) => issue(`${session}:${i}`, `${session}:${i}:m`, 100, 100, 550, pool));
    const grants = (await Promise.all(asks.map((a) => source.issueRewards(pool, "emission", [a])))).flatMap(grantsOf);
    expect(grants.reduce((t, g) => t + g.amountMicros, 0)).toBe(550);
    expect(grants.filter((g) => g.amountMicros === 100)).toHaveLength(5);
    expect(grants.filter((g) => g.amountMicros === 50)).toHaveLength(1);
    // Resent (their answers lost): the same grants, nothing more issued.
    const resent = (await Promise.all(asks.map((a) => source.issueRewards(pool, "emission", [a])))).flatMap(grantsOf);
    expect(resent).toEqual(grants);
    const figures = await source.sourceFigures();
    expect(figures).toMatchObject({ issued_micros: 550n, overdrawn: [] });
    expect(figures?.today).toMatchObject({ budget_micros: 550, issued_micros: 550 });
  });

  it("is one source only, and a customer account issues nothing", async () => {
    const pool = uniq("pool");
    await ledgerOf(`source:${pool}`).issueRewards(pool, "emission", [issue("1:1", "1:1:m", 1, 1, 1, pool)]);
    expect(await ledgerOf(`source:${pool}`).issueRewards(pool, "x402", [])).toMatchObject({ ok: false, status: 409, code: "not_a_source" });
    const reward = { sessionId: 1, taskId: 1, minerId: "m", amountMicros: 1, role: "worker" as const, slot: 0, source: pool };
    expect(await ledgerOf(`source:${pool}`).creditRewards([reward])).toMatchObject({ ok: false, code: "source_account" });
    const customer = uniq("acct");
    expect((await admin("/v1/admin/customers", "POST", { id: customer, name: customer })).status).toBe(201);
    expect(await ledgerOf(customer).issueRewards(pool, "emission", [])).toMatchObject({ ok: false, code: "not_a_source" });
  });

  it("refuses a reward credited with no named source or an amount outside the exact range", async () => {
    const account = uniq("acct");
    const reward = { sessionId: 1, taskId: 1, minerId: "m", role: "worker" as const, slot: 0 };
    expect(await ledgerOf(account).creditRewards([{ ...reward, amountMicros: 1, source: "legacy" }])).toMatchObject({ ok: false, status: 400, details: { field: "source" } });
    for (const amountMicros of [2 ** 53, 1.5, 0, -1]) {
      expect(await ledgerOf(account).creditRewards([{ ...reward, amountMicros, source: "emission" }])).toMatchObject({
        ok: false,
        status: 400,
        details: { field: "amount_micros" },
      });
    }
    // Two rewards that each fit but together pass 2^53 − 1: refused whole, nothing credited.
    const two = [
      { ...reward, amountMicros: MAX_MICROS - 5, source: "emission" },
      { ...reward, taskId: 2, amountMicros: 10, source: "emission" },
    ];
    expect(await ledgerOf(account).creditRewards(two)).toMatchObject({ ok: false, details: { field: "amount_micros" } });
    expect((await ledgerOf(account).minerEarnings()).miners).toEqual([]);
  });
});
