import { describe, expect, it } from "vitest";
import type { Slot } from "../domain/protocol/run-task";
import { settleTask } from "../domain/rewards/miner-rewards";
import { splitBilling, usdMicros } from "../domain/rewards/task-billing";

const policy = { shareBps: 2000, microsPerToken: 1, maxMicrosPerTask: 10_000, emission: { pool: "emission", budgetMicros: 1_000_000 }, slashShareBps: 0, slashMajorityBps: 6500 };

function slot(n: number, id: string, part: { agreed?: boolean; state?: Slot["state"]; account?: string | null } = {}): Slot {
  return {
    slot: n,
    miner: { id, url: "http://127.0.0.1:1", credential: "x", payoutAccount: part.account === undefined ? `acct-${id}` : part.account },
    state: part.state ?? "precommitted",
    startedAt: 0,
    ...(part.agreed === undefined ? {} : { agreed: part.agreed }),
  };
}

const task = (slots: Slot[], winnerSlot: number, extra: Partial<Parameters<typeof settleTask>[0]> = {}) => ({
  sessionId: 7,
  taskId: 3,
  winnerSlot,
  slots,
  usage: { prompt_tokens: 10, completion_tokens: 10 },
  ...extra,
});

describe("the reward split", () => {
  it("splits the pool evenly, the odd micros to the worker first, then by slot; roles and slots named", () => {
    // 10 tokens × 1 micro, among three agreeing miners: 4, 3, 3; the worker sits in slot 2.
    const { rewards } = settleTask(task([slot(0, "a", { agreed: true }), slot(1, "b", { agreed: true }), slot(2, "c", { agreed: true })], 2), policy);
    expect(rewards.map((r) => [r.minerId, r.amountMicros, r.role, r.slot])).toEqual([
      ["c", 4, "worker", 2],
      ["a", 3, "validator", 0],
      ["b", 3, "validator", 1],
    ]);
    expect(rewards.reduce((sum, r) => sum + r.amountMicros, 0)).toBe(10);
  });

  it("takes a billed task's share of what it was billed; a miner without an account forfeits its part", () => {
    const billed = { kind: "paid" as const, micros: usdMicros("$0.01") };
    const { rewards } = settleTask(
      task([slot(0, "a", { agreed: true }), slot(1, "b", { agreed: true, account: null }), slot(2, "c", { agreed: false })], 0, { billing: billed }),
      policy,
    );
    // 20 % of 10 000 micros, halved: the account-less miner's half is not paid to anyone.
    expect(rewards.map((r) => [r.minerId, r.amountMicros])).toEqual([["a", 1000]]);
  });

  it("pays nothing to an agreeing miner whose reported usage the audit found false; the others get their own shares only", () => {
    const liar = { ...slot(1, "b", { agreed: true }), usageMisreport: "reported 1000000000000 completion tokens for a text of 40 bytes" };
    const { rewards } = settleTask(task([slot(0, "a", { agreed: true }), liar, slot(2, "c", { agreed: true })], 0), policy);
    // 10 micros over three agreeing miners (4, 3, 3): b's 3 is forfeit, not shared out.
    expect(rewards.map((r) => [r.minerId, r.amountMicros])).toEqual([
      ["a", 4],
      ["c", 3],
    ]);
  });

  it("pays no one who failed, timed out or disagreed; slashes an outvoted miner only past the majority threshold", () => {
    const slots = [slot(0, "a", { agreed: true }), slot(1, "b", { agreed: true }), slot(2, "w", { agreed: false }), slot(3, "f", { state: "failed" })];
    const slashing = { ...policy, slashShareBps: 500 };
    const settled = settleTask(task(slots, 0), slashing);
    expect(settled.rewards.map((r) => r.minerId)).toEqual(["a", "b"]);
    // 2 of 3 answers agree (6667 bps ≥ 6500): w is slashed; f failed, which is not an outvote.
    expect(settled.slashes).toEqual([{ sessionId: 7, taskId: 3, minerId: "w", account: "acct-w", shareBps: 500 }]);
    expect(settleTask(task(slots, 0), { ...slashing, slashMajorityBps: 7000 }).slashes).toEqual([]);
    expect(settleTask(task(slots, 0), policy).slashes).toEqual([]);
  });

  it("reads x402 prices into micros, and splits one payment over a request's tasks", () => {
    expect([usdMicros("$0.01"), usdMicros("$2"), usdMicros("$0.0000015")]).toEqual([10_000, 2_000_000, 1]);
    const paid = { kind: "paid" as const, micros: 20_000 };
    expect([0, 1, 2].map((k) => splitBilling(paid, 3, k))).toEqual([6667, 6667, 6666].map((micros) => ({ kind: "paid", micros })));
    const metered = { kind: "metered" as const, price: { prompt_per_1k_micros: 1, completion_per_1k_micros: 2 } };
    expect(splitBilling(metered, 3, 1)).toBe(metered);
  });
});
