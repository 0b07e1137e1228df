import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { sha256Hex } from "../../domain/crypto/sha256";
import { parseUrn } from "../../domain/payloads/urn";
import { ReceiptSchema } from "../../domain/receipts/receipt-schema";
import { CompletionResponseSchema } from "../../domain/schemas/completion";
import { SIGN_HEADERS } from "../../domain/miners/result-signature";
import { call, createSession, minerInbox, minersFor } from "../helpers";

/**
 * The payload store (R2) failing under a v2/v3 task: its prompt's write before
 * any miner is called, or its result's after consensus. The fault is put at
 * the binding, in the Session object's own payload store only: its bucket is
 * the real one but for `put` under one role's keys, which fails (after writing,
 * as a put whose response is lost does, when `written`).
 */

type Role = "prompt" | "result";
const RETENTION_MS = 604_800_000;

const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
const TaskList = z.object({ tasks: z.array(z.object({ task_id: z.number(), status: z.string(), request_id: z.string().nullable() })) });
const TaskView = z.object({
  task_id: z.number(),
  status: z.string(),
  request_id: z.string().nullable(),
  prompt_urn: z.string().nullable(),
  result_urn: z.string().nullable(),
  result: CompletionResponseSchema.nullable(),
  error: z.object({ code: z.string() }).nullable(),
  assignments: z.array(z.object({ miner: z.string(), status: z.string() })),
  events: z.array(z.object({ slot: z.number().nullable(), state: z.string() })),
});
type PayloadRow = { object_key: string; task_id: number; expires_at: number };

const stubOf = (sessionId: number) => env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}`));
const v3 = (sessionId: number, json: Record<string, unknown>) => call(`/api/v3/completions/${sessionId}`, { method: "POST", json });
const roleOf = (key: string) => /^s\d+\/t\d+\/([a-z]+)-/.exec(key)?.[1];

/** The Session object's payload store, whose bucket binding the fault replaces (the object's own env stays as it is). */
type WithPayloads = { env: Record<string, unknown>; payloads: { env: Record<string, unknown> } };

/** From now on, the session's R2 puts under `role`'s keys fail; every other call reaches the real bucket. */
async function failPuts(sessionId: number, role: Role, written: boolean) {
  await runInDurableObject(stubOf(sessionId), (instance) => {
    const object = instance as unknown as WithPayloads;
    const real = object.env["PAYLOADS"] as R2Bucket;
    const failing = {
      get: (...a: Parameters<R2Bucket["get"]>) => real.get(...a),
      head: (...a: Parameters<R2Bucket["head"]>) => real.head(...a),
      list: (...a: Parameters<R2Bucket["list"]>) => real.list(...a),
      delete: (...a: Parameters<R2Bucket["delete"]>) => real.delete(...a),
      put: async (...a: Parameters<R2Bucket["put"]>) => {
        if (roleOf(a[0]) !== role) return real.put(...a);
        if (written) await real.put(...a);
        throw new Error(`R2 put of ${a[0]} failed (injected)`);
      },
    };
    object.payloads.env = { ...object.env, PAYLOADS: failing };
  });
}

/** R2 works again for the session. */
async function restorePuts(sessionId: number) {
  await runInDurableObject(stubOf(sessionId), (instance) => {
    const object = instance as unknown as WithPayloads;
    object.payloads.env = object.env;
  });
}

/** The miner calls a fleet miner received for this session (the router asks each to sign, naming the session). */
async function callsFor(sessionId: number) {
  return (await minerInbox("fastA")).filter((r) => r.signing[SIGN_HEADERS.session] === String(sessionId)).length;
}

async function tasksOf(sessionId: number) {
  return TaskList.parse(await (await call(`/api/v1/tasks/${sessionId}`)).json()).tasks;
}

async function taskView(sessionId: number, taskId: number) {
  const res = await call(`/api/v1/tasks/${sessionId}/${taskId}`);
  expect(res.status).toBe(200);
  return TaskView.parse(await res.json());
}

/** The object's payload rows, and its alarm. */
async function retention(sessionId: number) {
  return runInDurableObject(stubOf(sessionId), async (_i, state) => ({
    rows: state.storage.sql.exec<PayloadRow>("SELECT object_key, task_id, expires_at FROM payloads").toArray(),
    alarm: await state.storage.getAlarm(),
  }));
}

async function objectsOf(sessionId: number) {
  return (await env.PAYLOADS.list({ prefix: `s${sessionId}/` })).objects.map((o) => o.key);
}

/**
 * A task whose prompt could not be stored: answered 503, no miner called, and no task left behind (as one no miner
 * took: its request_id may be sent again); its id not given back, since its reserved keys' rows stay bound to it and
 * expire as an ended task's, with the alarm that deletes them set. Answers the id it had.
 */
async function expectPromptFailure(sessionId: number, res: Response, sentAt: number, answeredAt: number) {
  expect(res.status).toBe(503);
  expect(ErrorBody.parse(await res.json()).error.code).toBe("payload_store_unavailable");
  expect(await callsFor(sessionId)).toBe(0);
  expect(await tasksOf(sessionId)).toEqual([]);

  // Its own keys' rows are the ones expiring a retention period after now; the rest of the block, an hour later.
  const { rows, alarm } = await retention(sessionId);
  const own = rows.filter((r) => r.expires_at <= answeredAt + RETENTION_MS);
  expect(own.map((r) => roleOf(r.object_key)).sort()).toEqual(["prompt", "result"]);
  const taskId = own[0]!.task_id;
  for (const r of own) {
    expect(r.task_id).toBe(taskId);
    expect(r.expires_at).toBeGreaterThanOrEqual(sentAt + RETENTION_MS);
  }
  expect((await call(`/api/v1/tasks/${sessionId}/${taskId}`)).status).toBe(404);
  // The alarm deletes them then (an R2 write that failed may have written all the same): nothing else may come to set it.
  expect(alarm).not.toBeNull();
  expect(alarm!).toBeLessThanOrEqual(Math.max(...own.map((r) => r.expires_at)));
  return { taskId, own };
}

describe("the payload store fails for a v3 task's prompt", () => {
  it("without a request_id (recorded only with its outcome): 503, no miner called, no task left, its keys expiring", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    await failPuts(sessionId, "prompt", false);

    const sentAt = Date.now();
    const res = await v3(sessionId, { prompt: "lost before any miner", timeout: 30 });
    const { taskId } = await expectPromptFailure(sessionId, res, sentAt, Date.now());
    expect(await objectsOf(sessionId)).toEqual([]);

    // R2 back: the next task runs, reaches the miner (which the count above would have shown), and takes a new id.
    await restorePuts(sessionId);
    const next = await v3(sessionId, { prompt: "stored this time", timeout: 30 });
    expect(next.status).toBe(200);
    const body = CompletionResponseSchema.parse(await next.json());
    expect(body.task_id).toBeGreaterThan(taskId);
    expect(parseUrn(body.prompt_urn!).fileName).toMatch(new RegExp(`^s${sessionId}/t${body.task_id}/prompt-`));
    expect(await callsFor(sessionId)).toBe(1);
    expect((await tasksOf(sessionId)).map((t) => [t.task_id, t.status])).toEqual([[body.task_id, "ended"]]);
  });

  it("with a request_id, the object written before the put failed: 503, no miner called; the same request_id runs once R2 is back", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    await failPuts(sessionId, "prompt", true);

    const sentAt = Date.now();
    const ask = { prompt: "written, then the put failed", timeout: 30, request_id: "r2-down-1" };
    const res = await v3(sessionId, ask);
    const { taskId, own } = await expectPromptFailure(sessionId, res, sentAt, Date.now());
    // The object the failed put wrote is under its reserved key, whose row expires it.
    const [written] = await objectsOf(sessionId);
    expect(own.map((r) => r.object_key)).toContain(written);

    // R2 back. Nothing was dispatched and nothing was kept of the task: the same request_id runs (as after
    // no_miners_available), under a new id, and reaches the miner once.
    await restorePuts(sessionId);
    const again = await v3(sessionId, ask);
    expect(again.status).toBe(200);
    expect(again.headers.get("x-idempotent-replay")).toBe("false");
    const body = CompletionResponseSchema.parse(await again.json());
    expect(body.request_id).toBe("r2-down-1");
    expect(body.task_id).toBeGreaterThan(taskId);
    expect(await callsFor(sessionId)).toBe(1);

    // From now on that request_id is the answered task's: a replay, no miner.
    const replay = await v3(sessionId, ask);
    expect(replay.headers.get("x-idempotent-replay")).toBe("true");
    expect(CompletionResponseSchema.parse(await replay.json())).toEqual(body);
    expect(await callsFor(sessionId)).toBe(1);
  });

  it("for a live stream (recorded before its miners): the same 503 as JSON, before any stream opens", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    await failPuts(sessionId, "prompt", false);

    const sentAt = Date.now();
    const res = await v3(sessionId, { prompt: "no stream without a prompt", timeout: 30, stream: true });
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    await expectPromptFailure(sessionId, res, sentAt, Date.now());
  });
});

describe("the payload store fails for a v3 task's result, after consensus", () => {
  it("answers the agreed completion with result_urn null; the task, its replay and its receipt say the same", async () => {
    const { model, ids } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    await failPuts(sessionId, "result", false);

    const sentAt = Date.now();
    const ask = { prompt: "answer me, store nothing", timeout: 30, request_id: "r2-result-down" };
    const res = await v3(sessionId, ask);
    const answeredAt = Date.now();
    expect(res.status).toBe(200);
    const body = CompletionResponseSchema.parse(await res.json());
    expect(body.result_urn).toBeNull();
    expect(body.prompt_urn).toMatch(/^urn:blob:v3:r2:0:cortensor-payloads:/);
    const text = body.choices[0]!.text!;
    expect(text.length).toBeGreaterThan(0);
    expect(body.miners.map((m) => m.miner)).toEqual([ids.fastA]);
    expect(await callsFor(sessionId)).toBe(1);
    // The prompt is in R2; no result is.
    expect(await objectsOf(sessionId)).toEqual([parseUrn(body.prompt_urn!).fileName]);
    expect(await (await env.PAYLOADS.get(parseUrn(body.prompt_urn!).fileName))!.text()).toBe(ask.prompt);

    // The stored task: ended, with the answer the client got, no result URN.
    const task = await taskView(sessionId, body.task_id);
    expect(task).toMatchObject({ status: "ended", prompt_urn: body.prompt_urn, result_urn: null, error: null });
    expect(task.result).toEqual(body);

    // Its receipt: answered, the chosen output the client's text.
    const receiptRes = await call(`/api/v1/tasks/${sessionId}/${body.task_id}/receipt`);
    expect(receiptRes.status).toBe(200);
    const receipt = ReceiptSchema.parse(await receiptRes.json());
    expect(receipt).toMatchObject({ outcome: "answered", task_id: body.task_id, session_id: sessionId });
    expect(receipt.chosen?.output_hash).toBe(await sha256Hex(text));

    // A replay gives the same answer, with no result URN, and calls no miner.
    const again = await v3(sessionId, ask);
    expect(again.status).toBe(200);
    expect(again.headers.get("x-idempotent-replay")).toBe("true");
    expect(CompletionResponseSchema.parse(await again.json())).toEqual(body);
    expect(await callsFor(sessionId)).toBe(1);

    // Its keys' rows (the result's, nothing under it) expire as an ended task's.
    const { rows } = await retention(sessionId);
    const own = rows.filter((r) => r.task_id === body.task_id);
    expect(own.map((r) => roleOf(r.object_key)).sort()).toEqual(["prompt", "result"]);
    for (const r of own) {
      expect(r.expires_at).toBeGreaterThanOrEqual(sentAt + RETENTION_MS);
      expect(r.expires_at).toBeLessThanOrEqual(answeredAt + RETENTION_MS);
    }
  });
});
