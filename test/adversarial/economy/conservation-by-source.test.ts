import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_MICROS } from "../../../domain/wallet/safe-micros";
import { admin, createSession, fetchWorker, minersFor, routerCompletion, uniq, uniqSessionId, usageCharge } from "../../helpers";
import { TEST_ADMIN_KEY } from "../../keys";
import { flushReports, freezeSessionAlarms } from "../../report-flush";
import { emissionFunding, ledgerOf, payReward } from "../../sources";

/**
 * Money from declared sources only: after each attack the conservation check
 * holds by source (every credit and reward an account holds was issued to it
 * by a named source), an emission pool never pays more than its day's budget,
 * and amounts near 2^53 are refused or exact, never rounded.
 */

type SourceRow = { source: string; kind: string; issued_micros: number; credited_micros: number; in_flight_micros: number; overdrawn: string[] };
type Conservation = {
  holds: boolean;
  sources_match: boolean;
  paid_in_micros: number;
  emitted_micros: number;
  issued_by_sources_micros: number;
  sources: SourceRow[];
  unbacked_accounts: { account: string; source: string; credited_micros: number; issued_micros: number }[];
  overdrawn_sources: string[];
  unbalanced_accounts: string[];
};

async function adminGet<T>(path: string, vars: Record<string, string> = {}): Promise<T> {
  const { response } = await fetchWorker(new Request(`http://router.test${path}`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } }), vars);
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}
const conservation = (vars: Record<string, string> = {}) => adminGet<Conservation>("/api/v1/admin/ledger/conservation", vars);
const sourceRow = (c: Conservation, name: string) => c.sources.find((s) => s.source === name);

/** A payout account with an opening balance of 1000 micros (issued by source:admin). */
async function payoutAccount(): Promise<string> {
  const id = uniq("payee");
  expect((await admin("/v1/admin/customers", "POST", { id, name: id, balance_micros: 1000 })).status).toBe(201);
  return id;
}
const balanceOf = async (id: string) => (await ledgerOf(id).balance())?.balance_micros;

async function trialCompletion(sessionId: number, vars: Record<string, string>, ip: string) {
  const request = new Request("http://router.test/api/v1/trial/completions", {
    method: "POST",
    headers: { "content-type": "application/json", "CF-Connecting-IP": ip },
    body: JSON.stringify({ prompt: uniq("trial"), session_id: sessionId }),
  });
  const { response } = await fetchWorker(request, { TRIAL_ROUTES: "all", TRIAL_SESSION_IDS: String(sessionId), TRIAL_MAX_TOKENS: "16", ...vars });
  expect(response.status).toBe(200);
  return (await response.json()) as { usage: { completion_tokens: number } };
}

describe("economy: conservation by source", () => {
  freezeSessionAlarms();

  it("an inflated per-token reward on unpaid paths (router key, trial) pays at most the pool's day budget, once; conservation holds by source", async () => {
    const { model, ids } = await minersFor(["fastA", "fastB"]);
    const payee = await payoutAccount();
    for (const id of Object.values(ids)) expect((await admin(`/api/v1/admin/miners/${id}`, "PATCH", { payout_account: payee })).status).toBe(200);
    const sessionId = await createSession({ model, redundancy: 2 });
    // The attack's configuration: a million micros a token, no per-task cap; the pool's own budget is 2.5 units a day.
    const pool = uniq("pool");
    const budget = 2_500_000;
    const vars = {
      MINER_REWARD_MICROS_PER_TOKEN: "1000000",
      MINER_REWARD_MAX_MICROS_PER_TASK: String(MAX_MICROS),
      MINER_EMISSION_POOL: pool,
      MINER_EMISSION_BUDGET_MICROS: String(budget),
    };
    const tasks = [await routerCompletion(sessionId, vars), await routerCompletion(sessionId, vars), await trialCompletion(sessionId, vars, "203.0.113.77")];
    // Each task alone asks more than the whole budget.
    for (const t of tasks) expect(t.usage.completion_tokens * 1_000_000).toBeGreaterThan(budget);
    expect(await flushReports(sessionId)).toBe(true);
    // A resend of the whole outbox (answers lost) pays nothing twice.
    await flushReports(sessionId);

    expect(await balanceOf(payee)).toBe(1000 + budget);
    const c = await conservation(vars);
    expect(c).toMatchObject({ holds: true, sources_match: true, unbacked_accounts: [], overdrawn_sources: [] });
    expect(sourceRow(c, pool)).toEqual({
      source: pool,
      kind: "emission",
      funded_micros: budget,
      issued_micros: budget,
      credited_micros: budget,
      in_flight_micros: 0,
      overdrawn: [],
    });
    expect(c.issued_by_sources_micros).toBe(c.paid_in_micros + c.emitted_micros);

    // The rewards report says the pool is spent: unpaid work earns nothing more today.
    const report = await adminGet<{ emission: { pool: string; exhausted: boolean; issued_today_micros: number; budget_micros_per_day: number; note: string } }>(
      "/api/v1/admin/rewards",
      vars,
    );
    expect(report.emission).toMatchObject({ pool, exhausted: true, issued_today_micros: budget, budget_micros_per_day: budget });
    expect(report.emission.note).toMatch(/earn nothing/);
    await routerCompletion(sessionId, vars);
    await flushReports(sessionId);
    expect(await balanceOf(payee)).toBe(1000 + budget);
  });

  it("caps one unpaid task's rewards at MINER_REWARD_MAX_MICROS_PER_TASK, whatever the per-token rate", async () => {
    const { model, ids } = await minersFor(["fastA", "fastB"]);
    const payee = await payoutAccount();
    for (const id of Object.values(ids)) expect((await admin(`/api/v1/admin/miners/${id}`, "PATCH", { payout_account: payee })).status).toBe(200);
    const sessionId = await createSession({ model, redundancy: 2 });
    const vars = {
      MINER_REWARD_MICROS_PER_TOKEN: "1000000",
      MINER_REWARD_MAX_MICROS_PER_TASK: "777",
      MINER_EMISSION_POOL: uniq("pool"),
      MINER_EMISSION_BUDGET_MICROS: "1000000000",
    };
    await routerCompletion(sessionId, vars);
    await routerCompletion(sessionId, vars);
    await flushReports(sessionId);
    expect(await balanceOf(payee)).toBe(1000 + 2 * 777);
    expect((await conservation(vars)).holds).toBe(true);
  });

  it("names an account holding a reward no source issued (a forged or overlarge credit), and holds again without it", async () => {
    const payee = await payoutAccount();
    const pool = uniq("pool");
    const session = uniqSessionId();
    // An honest reward of 500 from the pool, then the same account credited 10^12 that the pool never issued.
    expect(await payReward(payee, { sessionId: session, taskId: 1, minerId: "m", amountMicros: 500, role: "worker", slot: 0 }, emissionFunding(pool, 500, 10_000))).toBe(500);
    const forged = { sessionId: session, taskId: 2, minerId: "m", amountMicros: 10 ** 12, role: "worker" as const, slot: 0, source: pool };
    expect(await ledgerOf(payee).creditRewards([forged])).toEqual({ credited: 1, held: false });
    try {
      const c = await conservation();
      expect(c.holds).toBe(false);
      expect(c.sources_match).toBe(false);
      expect(c.unbacked_accounts).toContainEqual({ account: payee, source: pool, credited_micros: 500 + 10 ** 12, issued_micros: 500 });
      // Every account still balances on its own: only the sources tell the forgery.
      expect(c.unbalanced_accounts).not.toContain(payee);
    } finally {
      await runInDurableObject(ledgerOf(payee), (_instance, state) => {
        state.storage.sql.exec("DELETE FROM rewards WHERE reward_key = ?", `${session}:2:m`);
        state.storage.sql.exec("UPDATE customer SET balance_micros = balance_micros - ?", 10 ** 12);
      });
    }
    expect((await conservation()).holds).toBe(true);
  });

  it("amounts near 2^53: an admin credit past the exact range is refused naming the field, a charge past it is billed exactly at the bound, and conservation holds", async () => {
    const id = uniq("whale");
    expect((await admin("/v1/admin/customers", "POST", { id, name: id })).status).toBe(201);
    const credited = await admin(`/v1/admin/customers/${id}/credit`, "POST", { amount_micros: MAX_MICROS });
    expect(credited.status).toBe(200);
    expect(((await credited.json()) as { balance_micros: number }).balance_micros).toBe(MAX_MICROS);
    // One more micro would pass 2^53 − 1: refused, naming the field, nothing issued or credited.
    const over = await admin(`/v1/admin/customers/${id}/credit`, "POST", { amount_micros: 1 });
    expect(over.status).toBe(400);
    expect(JSON.stringify(await over.json())).toContain("amount_micros");
    // A body amount past 2^53 is no integer the schema takes.
    expect((await admin(`/v1/admin/customers/${id}/credit`, "POST", { amount_micros: 2 ** 53 + 2 })).status).toBe(400);
    expect(await balanceOf(id)).toBe(MAX_MICROS);

    // A usage charge of 2^53 − 1, then another: the first exact, the second only what keeps the balance within −(2^53 − 1).
    expect((await ledgerOf(id).recordUsage(usageCharge(MAX_MICROS))).record.cost_micros).toBe(MAX_MICROS);
    expect(await balanceOf(id)).toBe(0);
    expect((await ledgerOf(id).recordUsage(usageCharge(MAX_MICROS))).record.cost_micros).toBe(0);
    const figures = await ledgerOf(id).figures();
    expect(figures).toMatchObject({ available: 0, credits: MAX_MICROS, charges: MAX_MICROS, by_source: { admin: MAX_MICROS } });

    // A transfer into an account already at 2^53 − 1 waits in flight, exact, rather than rounding its balance.
    const full = uniq("full");
    expect((await admin("/v1/admin/customers", "POST", { id: full, name: full, balance_micros: MAX_MICROS })).status).toBe(201);
    expect(await ledgerOf(full).receiveTransfer({ id: uniq("tx"), from: id, amountMicros: 1, memo: "", at: 0 })).toBeNull();
    expect(await balanceOf(full)).toBe(MAX_MICROS);

    const c = await conservation();
    expect(c).toMatchObject({ holds: true, sources_match: true, unbacked_accounts: [] });
    expect(c.unbalanced_accounts).toEqual([]);
    expect(sourceRow(c, "admin")?.issued_micros).toBeGreaterThanOrEqual(MAX_MICROS);
  });
});
