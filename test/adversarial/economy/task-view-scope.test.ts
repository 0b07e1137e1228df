import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createSession, fetchWorker, gatewayCustomer, minersFor } from "../../helpers";
import { TEST_ADMIN_KEY, TEST_ROUTER_KEY } from "../../keys";

/**
 * Task views are scoped to their caller. A router key sees every task of a
 * session (that it exists, its status, miners, timing and hashes), but a
 * request id, the prompt, the answer and the miners' outputs only of tasks
 * it submitted itself; the admin key sees everything. A gateway customer's,
 * an x402 payer's or a trial client's task is someone else's.
 */

const SECOND_KEY = "second-router-key-for-views";
const VARS = { ROUTER_API_KEYS: `${TEST_ROUTER_KEY},${SECOND_KEY}` };

const Summary = z.object({ task_id: z.number(), request_id: z.string().nullable(), status: z.string() });
const List = z.object({ tasks: z.array(Summary) });
const Detail = Summary.extend({
  request: z.record(z.string(), z.unknown()),
  result: z.record(z.string(), z.unknown()).nullable(),
  assignments: z.array(z.object({ miner: z.string(), precommit_hash: z.string().nullable(), output: z.string().nullable() })),
});
const Envelope = z.object({ status: z.literal("ok"), data: z.object({ task_id: z.number(), choices: z.array(z.object({ text: z.string() })) }) });
const Completion = z.object({ task_id: z.number(), choices: z.array(z.object({ text: z.string() })) });

async function send(path: string, key: string | null, vars: Record<string, string>, json?: unknown, headers: Record<string, string> = {}) {
  const { response, settled } = await fetchWorker(
    new Request(`http://router.test${path}`, {
      method: json === undefined ? "GET" : "POST",
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(json === undefined ? {} : { "content-type": "application/json" }), ...headers },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    }),
    { ...VARS, ...vars },
  );
  await settled();
  return response;
}

/** What `key` reads of one task, list and detail, as text and parsed. */
async function viewOf(key: string, sessionId: number, taskId: number) {
  const list = await send(`/api/v1/tasks/${sessionId}`, key, {});
  const listText = await list.text();
  expect(list.status, listText).toBe(200);
  const detail = await send(`/api/v1/tasks/${sessionId}/${taskId}`, key, {});
  const detailText = await detail.text();
  expect(detail.status, detailText).toBe(200);
  const summary = List.parse(JSON.parse(listText)).tasks.find((t) => t.task_id === taskId);
  expect(summary).toBeDefined();
  return { text: listText + detailText, summary: summary!, detail: Detail.parse(JSON.parse(detailText)) };
}

describe("task views are scoped to their caller", () => {
  it("shows a router key a gateway customer's task without its request id, prompt or outputs; the admin key all of it", async () => {
    const c = await gatewayCustomer("view-cust");
    const prompt = "customer secret: the merger closes on friday";
    const res = await send("/v1/completions", c.issued.key, c.vars, { model: "default", prompt, max_tokens: 16, request_id: "cust-req-77" });
    const body = Envelope.parse(await res.json());
    const output = body.data.choices[0]?.text ?? "";
    expect(output.length).toBeGreaterThan(0);

    for (const key of [TEST_ROUTER_KEY, SECOND_KEY]) {
      const seen = await viewOf(key, c.sessionId, body.data.task_id);
      expect(seen.summary).toMatchObject({ request_id: null, status: "ended" });
      expect(seen.detail.request_id).toBeNull();
      expect(seen.detail.result).toBeNull();
      expect(seen.detail.request).not.toHaveProperty("prompt");
      expect(seen.detail.assignments.length).toBeGreaterThan(0);
      expect(seen.detail.assignments.every((a) => a.output === null && a.precommit_hash !== null)).toBe(true);
      expect(seen.text).not.toContain("cust-req-77");
      expect(seen.text).not.toContain("merger");
      expect(seen.text).not.toContain(output);
    }

    const asAdmin = await viewOf(TEST_ADMIN_KEY, c.sessionId, body.data.task_id);
    expect(asAdmin.summary.request_id).toBe("cust-req-77");
    expect(asAdmin.detail.assignments.some((a) => a.output === output)).toBe(true);

    // Its receipt carries every miner's output: refused to router keys, read by the admin.
    const receiptPath = `/api/v1/tasks/${c.sessionId}/${body.data.task_id}/receipt`;
    for (const key of [TEST_ROUTER_KEY, SECOND_KEY]) {
      const refused = await send(receiptPath, key, {});
      const text = await refused.text();
      expect(refused.status, text).toBe(403);
      expect(JSON.parse(text)).toMatchObject({ error: { code: "receipt_access_denied" } });
      expect(text).not.toContain(output);
    }
    const receipt = await send(receiptPath, TEST_ADMIN_KEY, {});
    expect(receipt.status).toBe(200);
    expect(await receipt.text()).toContain(output);
  });

  it("shows a router key its own tasks whole, and hides them from another router key", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const mine = Completion.parse(await (await send(`/api/v1/completions/${sessionId}`, TEST_ROUTER_KEY, {}, { prompt: "keyed view prompt", request_id: "mine-1" })).json());
    const anonymous = Completion.parse(await (await send(`/api/v1/completions/${sessionId}`, TEST_ROUTER_KEY, {}, { prompt: "keyless view prompt" })).json());

    const own = await viewOf(TEST_ROUTER_KEY, sessionId, mine.task_id);
    expect(own.summary.request_id).toBe("mine-1");
    expect(own.detail.request).toMatchObject({ prompt: "keyed view prompt" });
    expect(own.detail.result).not.toBeNull();
    const ownKeyless = await viewOf(TEST_ROUTER_KEY, sessionId, anonymous.task_id);
    expect(ownKeyless.summary.request_id).toBeNull();
    expect(ownKeyless.detail.request).toMatchObject({ prompt: "keyless view prompt" });

    for (const taskId of [mine.task_id, anonymous.task_id]) {
      const other = await viewOf(SECOND_KEY, sessionId, taskId);
      expect(other.text).not.toContain("view prompt");
      expect(other.text).not.toContain("mine-1");
      expect(other.detail.result).toBeNull();
    }
  });

  it("hides a trial client's keyless task from router keys", async () => {
    const { model } = await minersFor(["fastB"]);
    const sessionId = await createSession({ model });
    const trialVars = { TRIAL_ROUTES: "all", TRIAL_SESSION_IDS: String(sessionId), TRIAL_MAX_TOKENS: "16", TRIAL_MAX_TIMEOUT_S: "30" };
    const res = await send("/api/v1/trial/completions", null, trialVars, { prompt: "trial visitor's private question" }, { "CF-Connecting-IP": "203.0.113.91" });
    expect(res.status).toBe(200);
    const trial = Completion.parse(await res.json());
    const seen = await viewOf(TEST_ROUTER_KEY, sessionId, trial.task_id);
    expect(seen.text).not.toContain("private question");
    expect(seen.text).not.toContain(trial.choices[0]?.text ?? "(none)");
    expect((await viewOf(TEST_ADMIN_KEY, sessionId, trial.task_id)).detail.request).toMatchObject({ prompt: "trial visitor's private question" });
  });
});
