import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { ReceiptSchema } from "../domain/receipts/receipt-schema";
import { verifyReceipt } from "../domain/receipts/verify-receipt";
import { call, createSession, minersFor, uniq, until } from "./helpers";
import { TEST_ROUTER_SIGNER_KEY } from "./keys";

const stubOf = (sessionId: number) => env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}`));
type Row = { result: string; result_text_slot: number | null; body: string; outputs_in_assignments: number; output: string | null };

/** What the routes answer about a task: its view, its replay, its receipt, as bytes. */
async function routes(sessionId: number, request: Record<string, unknown>) {
  const view = await (await call(`/api/v1/tasks/${sessionId}/0`)).text();
  const replay = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: request });
  expect(replay.status).toBe(200);
  const receipt = await call(`/api/v1/tasks/${sessionId}/0/receipt`);
  expect(receipt.status).toBe(200);
  return { view, replay: await replay.text(), receipt: await receipt.text() };
}

const rowOf = (sessionId: number) =>
  runInDurableObject(stubOf(sessionId), (_instance, state) =>
    state.storage.sql
      .exec<Row>(
        `SELECT t.result, t.result_text_slot, t.receipt AS body, t.receipt_outputs_in_assignments AS outputs_in_assignments, a.output
         FROM tasks t LEFT JOIN assignments a ON a.task_id = t.task_id AND a.slot = t.result_text_slot
         WHERE t.task_id = 0`,
      )
      .one(),
  );

/**
 * A public task's output text is stored once, in its assignment (what the
 * task view shows per miner); the completion kept for replays and the
 * receipt's body hold null in its place and are filled back on read. The
 * routes answer the same bytes as from a row written whole, as rows from
 * before the change were: the test rewrites the row that way and reads again.
 */
describe("a result stored once", () => {
  for (const kind of ["completion", "chat"] as const) {
    it(`${kind}: the text lives in the assignment, and every route answers what a whole row answers`, async () => {
      const { model } = await minersFor(["fastA", "fastB"]);
      const sessionId = await createSession({ model, redundancy: 2, max_nodes: 2, commit_policy: "all" });
      const request = { ...(kind === "chat" ? { messages: [{ role: "user", content: "once, please" }] } : { prompt: "once, please" }), request_id: uniq("once") };
      const first = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: request });
      expect(first.status).toBe(200);
      const completion = (await first.json()) as { choices: { text?: string; message?: { content: string } }[] };
      const text = kind === "chat" ? completion.choices[0]?.message?.content : completion.choices[0]?.text;
      expect(text).toEqual(expect.any(String));
      await until(async () => {
        const t = (await (await call(`/api/v1/tasks/${sessionId}/0`)).json()) as { assignments: { status: string }[] };
        return t.assignments.every((a) => a.status === "ended");
      });

      const row = await rowOf(sessionId);
      expect(row.output).toBe(text);
      expect(row.result_text_slot).toEqual(expect.any(Number));
      const stored = JSON.parse(row.result);
      expect(kind === "chat" ? stored.choices[0].message.content : stored.choices[0].text).toBeNull();
      expect(row.result).not.toContain(JSON.stringify(text).slice(1, -1));
      expect(row.outputs_in_assignments).toBe(1);
      const storedMiners = JSON.parse(row.body).miners as { output?: string | null }[];
      expect(storedMiners.map((m) => m.output)).toEqual([null, null]);

      const now = await routes(sessionId, request);
      const view = JSON.parse(now.view);
      expect(view.result).toEqual(completion);
      expect(JSON.parse(now.replay)).toEqual(completion);
      const receipt = ReceiptSchema.parse(JSON.parse(now.receipt));
      expect(receipt.miners.map((m) => m.output)).toEqual([text, text]);
      const verdict = await verifyReceipt(receipt, { router: privateKeyToAccount(TEST_ROUTER_SIGNER_KEY).address, answer: text ?? "" });
      expect(verdict.checks.filter((c) => c.result === "fail")).toEqual([]);

      // The row as it was stored before: the texts in place, no slot, no flag.
      await runInDurableObject(stubOf(sessionId), (_instance, state) => {
        const outputs = new Map(
          state.storage.sql
            .exec<{ slot: number; output: string | null }>("SELECT slot, output FROM assignments WHERE task_id = 0")
            .toArray()
            .map((a) => [a.slot, a.output]),
        );
        const whole = JSON.parse(row.result);
        if (kind === "chat") whole.choices[0].message.content = text;
        else whole.choices[0].text = text;
        const body = JSON.parse(row.body);
        for (const m of body.miners) if (m.output === null) m.output = outputs.get(m.slot);
        state.storage.sql.exec("UPDATE tasks SET result = ?, result_text_slot = NULL WHERE task_id = 0", JSON.stringify(whole));
        state.storage.sql.exec("UPDATE tasks SET receipt = ?, receipt_outputs_in_assignments = 0 WHERE task_id = 0", JSON.stringify(body));
      });
      expect(await routes(sessionId, request)).toEqual(now);
    });
  }

  it("a private session's records stay sealed whole", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model, private: true, owner: privateKeyToAccount(generatePrivateKey()).address });
    // Private sessions run on the v2/v3 routes.
    const res = await call(`/api/v3/completions/${sessionId}`, { method: "POST", json: { prompt: "private once" } });
    expect(res.status).toBe(200);
    const row = await rowOf(sessionId);
    expect(row).toMatchObject({ result_text_slot: null, outputs_in_assignments: 0, output: null });
    expect(row.result.startsWith("{")).toBe(false);
  });
});
