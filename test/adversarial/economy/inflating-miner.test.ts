import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CompletionResponseSchema, type CompletionResponse } from "../../../domain/schemas/completion";
import { TaskDetailSchema } from "../../../domain/schemas/task";
import { admin, call, createSession, fetchWorker, minerInbox, minersFor, uniq, until } from "../../helpers";
import type { FleetName } from "../../setup/global-setup";
import { flushReports, freezeSessionAlarms } from "../../report-flush";
import { minersById, payingClient, postJson } from "../edge";
import { complete, textOf } from "../support";

/**
 * A miner that answers honestly but reports 10^12 (or 2^53) tokens of usage
 * (the dev miner's `reportUsage`, fleet miners `inflator`, `inflator53`,
 * `nsInflator`). The usage a client is shown, billed and its miners are paid
 * for is the router's own count (UTF-8 bytes of the prompt sent and of the
 * answer, the completion never above `max_tokens`); the miner's figures are
 * kept on its assignment for audit, and the lie is its fault.
 */

const MAX_TOKENS = 16;
/** The default reward of unbilled work (domain/config/config.ts): micros per completion token. */
const PER_TOKEN = 1;
/** The default gateway price (GATEWAY_PRICES): micros per 1k prompt and completion tokens. */
const PRICE = { prompt: 100, completion: 200 };
/** The default x402 price of a completion ($0.01) in micros. */
const X402_PRICE_MICROS = 10_000;

const bytes = (text: string) => new TextEncoder().encode(text).length;
const ledger = (customerId: string) => env.LEDGERS.get(env.LEDGERS.idFromName(`customer:${customerId}`));

/** What the client's usage may be for an ASCII prompt: the prompt's length, the completion within max_tokens and the answer's bytes. */
function expectBounded(usage: CompletionResponse["usage"], prompt: string, text: string, maxTokens = MAX_TOKENS) {
  expect(usage.prompt_tokens).toBe(prompt.length);
  expect(usage.completion_tokens).toBeGreaterThan(0);
  expect(usage.completion_tokens).toBeLessThanOrEqual(maxTokens);
  expect(usage.completion_tokens).toBeLessThanOrEqual(bytes(text));
  expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
}

/** A payout account (a gateway customer) for a miner, with a known starting balance. */
async function payoutAccount(minerId: string): Promise<string> {
  const id = uniq("payout");
  expect((await admin("/v1/admin/customers", "POST", { id, name: id, balance_micros: 0 })).status).toBe(201);
  expect((await admin(`/api/v1/admin/miners/${minerId}`, "PATCH", { payout_account: id })).status).toBe(200);
  return id;
}

/** The micros credited to an account as rewards. */
const rewardsOf = (customerId: string) =>
  runInDurableObject(ledger(customerId), (_instance, state) => state.storage.sql.exec<{ n: number | null }>("SELECT SUM(amount_micros) AS n FROM rewards").one().n ?? 0);

/** The task as `GET /api/v1/tasks/{session}/{task}` shows it. */
async function taskView(sessionId: number, taskId: number) {
  const res = await call(`/api/v1/tasks/${sessionId}/${taskId}`);
  expect(res.status).toBe(200);
  return TaskDetailSchema.parse(await res.json());
}

/** The inflator's assignment in the task view: its reported usage kept, and judged a misreport. */
async function expectAudited(sessionId: number, taskId: number, minerId: string, reported: number) {
  const view = await taskView(sessionId, taskId);
  const mine = view.assignments.find((a) => a.miner === minerId);
  expect(mine?.reported_usage).toEqual({ prompt_tokens: reported, completion_tokens: reported });
  expect(mine?.usage_misreport).toMatch(/completion tokens for a text of \d+ bytes/);
  for (const other of view.assignments.filter((a) => a.miner !== minerId)) expect(other.usage_misreport).toBeNull();
  return view;
}

/** After its reports reached the registry: the inflator's reputation fell below a new miner's and the lie counts as a failure. */
async function expectFaulted(minerId: string) {
  const [miner] = await minersById([minerId]);
  expect(miner?.reputation).toBeLessThan(0.8);
  expect(miner?.stats.failed).toBeGreaterThanOrEqual(1);
  expect(miner?.last_error).toBe("usage misreported");
}

/** An inflator beside two honest miners (redundancy 3), or alone; the inflator paying out to an account of its own. */
async function inflatedSession(inflator: FleetName, options: { honest?: FleetName[]; fields?: Record<string, unknown> } = {}) {
  const honest = options.honest ?? ["fastA", "fastB"];
  const { model, ids } = await minersFor([inflator, ...honest]);
  const account = await payoutAccount(ids[inflator]!);
  const sessionId = await createSession({ model, redundancy: honest.length + 1, ...options.fields });
  return { sessionId, minerId: ids[inflator]!, account };
}

/** Server-sent events' data, each parsed; the last completion chunk carries the usage. */
async function streamedUsage(res: Response) {
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const data = (await res.text())
    .split("\n\n")
    .map((e) => e.replace(/^data: /, "").trim())
    .filter((d) => d !== "" && d !== "[DONE]")
    .map((d) => JSON.parse(d) as { choices?: { text?: string }[]; usage?: CompletionResponse["usage"] });
  const text = data.map((d) => d.choices?.[0]?.text ?? "").join("");
  const usage = data.findLast((d) => d.usage)?.usage;
  expect(usage).toBeDefined();
  return { text, usage: usage! };
}

describe("an inflating miner", () => {
  freezeSessionAlarms();

  it("on the router-key route: the client's usage, the payee's credit are the router's count; the report is kept and is the miner's fault", async () => {
    const { sessionId, minerId, account } = await inflatedSession("inflator");
    const prompt = "Explain metering in one sentence.";
    const { body } = await complete(sessionId, { prompt, max_tokens: MAX_TOKENS });
    // The answer stands: the honest text, agreed (a majority decides; the third may come late).
    expect(body.consensus.agreed).toBeGreaterThanOrEqual(2);
    expectBounded(body.usage, prompt, textOf(body));
    await expectAudited(sessionId, body.task_id, minerId, 1e12);

    // Streamed (the agreed completion, redundancy 3): the final chunk's usage is the router's too.
    const streamed = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt, max_tokens: MAX_TOKENS, stream: true } });
    expect(streamed.status).toBe(200);
    const { text, usage } = await streamedUsage(streamed);
    expect(usage).toEqual(body.usage);
    expect(text).toBe(textOf(body));

    expect(await flushReports(sessionId)).toBe(true);
    // Two tasks, each paying its completion tokens to the agreeing miners: the inflator's share is forfeit (its lie is
    // not paid), and the honest miners get no more than their own shares.
    expect(await rewardsOf(account)).toBe(0);
    await expectFaulted(minerId);
  });

  it("streaming live (redundancy 1): the closing chunk carries the router's usage, never the miner's", async () => {
    const { sessionId, minerId, account } = await inflatedSession("inflator", { honest: [] });
    const prompt = "Stream me a short answer.";
    const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt, max_tokens: MAX_TOKENS, stream: true } });
    expect(res.status).toBe(200);
    const taskId = Number(res.headers.get("x-task-id"));
    const { text, usage } = await streamedUsage(res);
    expectBounded(usage, prompt, text);
    await expectAudited(sessionId, taskId, minerId, 1e12);
    await flushReports(sessionId);
    expect(await rewardsOf(account)).toBeLessThanOrEqual(usage.completion_tokens * PER_TOKEN);
    await expectFaulted(minerId);
  });

  it("on the trial route: keyless work pays the inflator no more than the router's count", async () => {
    const { sessionId, minerId, account } = await inflatedSession("inflator", { honest: [] });
    const prompt = "A free question.";
    const { response } = await fetchWorker(new Request("http://router.test/api/v1/trial/completions", postJson({ prompt }, { "CF-Connecting-IP": "198.51.100.77" })), {
      TRIAL_ROUTES: "all",
      TRIAL_SESSION_IDS: String(sessionId),
      TRIAL_MAX_TOKENS: String(MAX_TOKENS),
      TRIAL_MAX_TIMEOUT_S: "30",
    });
    expect(response.status).toBe(200);
    const body = CompletionResponseSchema.parse(await response.json());
    expectBounded(body.usage, prompt, textOf(body));
    await expectAudited(sessionId, body.task_id, minerId, 1e12);
    await flushReports(sessionId);
    expect(await rewardsOf(account)).toBeLessThanOrEqual(body.usage.completion_tokens * PER_TOKEN);
    await expectFaulted(minerId);
  });

  it("on an x402 route: the paid answer's usage is the router's, and the payee gets no more than the payment", async () => {
    const { sessionId, minerId, account } = await inflatedSession("inflator", { honest: [] });
    const pay = payingClient({ DEFAULT_SESSION_ID: String(sessionId) });
    const prompt = "A paid question.";
    const res = await pay("http://router.test/api/v1/x402/completions", postJson({ prompt, max_tokens: MAX_TOKENS }));
    expect(res.status).toBe(200);
    const body = CompletionResponseSchema.parse(await res.json());
    expectBounded(body.usage, prompt, textOf(body));
    await expectAudited(sessionId, body.task_id, minerId, 1e12);
    await flushReports(sessionId);
    expect(await rewardsOf(account)).toBeLessThanOrEqual(X402_PRICE_MICROS);
    await expectFaulted(minerId);
  });

  it("on the gateway: the customer is billed the router's count, JSON and streamed, and its balance stays within it", async () => {
    const { sessionId, minerId } = await inflatedSession("inflator", { honest: [] });
    const customer = uniq("inflated").toLowerCase();
    const balance = 5_000_000;
    expect((await admin("/v1/admin/customers", "POST", { id: customer, name: customer, billing: "prepaid", balance_micros: balance })).status).toBe(201);
    const { key } = (await (await admin(`/v1/admin/customers/${customer}/keys`, "POST", {})).json()) as { key: string };
    const vars = { GATEWAY_MODELS: JSON.stringify({ default: { pool: "local", session_id: sessionId } }) };
    const prompt = "Bill me fairly.";
    const send = async (stream: boolean) => {
      const request = new Request("http://router.test/v1/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "default", prompt, max_tokens: MAX_TOKENS, stream }),
      });
      const { response, settled } = await fetchWorker(request, vars);
      expect(response.status).toBe(200);
      const out = stream ? await streamedUsage(response) : (((await response.json()) as { data: unknown }).data as { usage: CompletionResponse["usage"] });
      await settled();
      return out.usage;
    };
    const usages = [await send(false), await send(true)];
    const bound = Math.ceil((prompt.length * PRICE.prompt + MAX_TOKENS * PRICE.completion) / 1000);
    const Page = z.object({ usage: z.array(z.object({ prompt_tokens: z.number(), completion_tokens: z.number(), cost_micros: z.number() })) });
    const records = Page.parse(await (await admin(`/v1/admin/customers/${customer}/usage`, "GET")).json()).usage;
    expect(records).toHaveLength(2);
    for (const [i, r] of records.entries()) {
      expect(r.prompt_tokens).toBe(prompt.length);
      expect(r.completion_tokens).toBeLessThanOrEqual(MAX_TOKENS);
      expect(r.cost_micros).toBeLessThanOrEqual(bound);
      expect([r.prompt_tokens, r.completion_tokens]).toEqual([usages[1 - i]!.prompt_tokens, usages[1 - i]!.completion_tokens]);
    }
    const after = z.object({ balance_micros: z.number() }).parse(await (await admin(`/v1/admin/customers/${customer}/balance`, "GET")).json());
    expect(after.balance_micros).toBe(balance - records.reduce((n, r) => n + r.cost_micros, 0));
    expect(after.balance_micros).toBeGreaterThanOrEqual(balance - 2 * bound);
    await flushReports(sessionId);
    await expectFaulted(minerId);
  });

  it("reporting 2^53 tokens: the figures kept are safe integers, the usage is the router's, the books still balance", async () => {
    const { sessionId, minerId, account } = await inflatedSession("inflator53");
    const prompt = "Near the edge of the safe range.";
    const { body } = await complete(sessionId, { prompt, max_tokens: MAX_TOKENS });
    expectBounded(body.usage, prompt, textOf(body));
    // 2^53 is past the safe range: kept as the largest safe figure, still a misreport.
    await expectAudited(sessionId, body.task_id, minerId, Number.MAX_SAFE_INTEGER);
    await flushReports(sessionId);
    expect(await rewardsOf(account)).toBeLessThanOrEqual(body.usage.completion_tokens * PER_TOKEN);
    const books = z
      .object({ holds: z.boolean() })
      .passthrough()
      .parse(await (await admin("/api/v1/admin/ledger/conservation", "GET")).json());
    expect(books.holds).toBe(true);
    await expectFaulted(minerId);
  });

  it("as a NeuroShard node: its reported usage is audited like any miner's", async () => {
    const { sessionId, minerId } = await inflatedSession("nsInflator", { honest: [] });
    const prompt = "A node's answer.";
    const { body } = await complete(sessionId, { prompt, max_tokens: MAX_TOKENS });
    expectBounded(body.usage, prompt, textOf(body));
    await expectAudited(sessionId, body.task_id, minerId, 1e12);
    await flushReports(sessionId);
    await expectFaulted(minerId);
  });

  it("delivering off-chain: the delivered usage is kept for audit, the answer's usage counts the prompt the router sent", async () => {
    const { model, ids } = await minersFor(["offchain"], { offchain: true });
    const sessionId = await createSession({ model });
    const prompt = "An off-chain prompt, counted by the router.";
    const answer = call(`/api/v3/completions/${sessionId}`, { method: "POST", json: { prompt, max_tokens: MAX_TOKENS, timeout: 20, precommit_timeout: 15 } });
    type Dispatch = { cortensor?: { task_id: number; token: string; payload_url: string } };
    const dispatch = await until(async () => (await minerInbox("offchain")).map((r) => r.body as Dispatch).find((b) => b.cortensor?.payload_url.includes(`s${sessionId}%2F`)));
    const claimed = { prompt_tokens: 1e12, completion_tokens: 1e12 };
    const result = "Delivered honestly, reported dishonestly.";
    const delivered = await call("/api/v3/offchain/result", {
      method: "POST",
      key: dispatch.cortensor!.token,
      json: { session_id: sessionId, task_id: dispatch.cortensor!.task_id, result, usage: claimed },
    });
    expect(delivered.status).toBe(200);
    const res = await answer;
    expect(res.status).toBe(200);
    const body = CompletionResponseSchema.parse(await res.json());
    expect(textOf(body)).toBe(result);
    expectBounded(body.usage, prompt, result);
    await expectAudited(sessionId, body.task_id, ids.offchain!, 1e12);
  });
});
