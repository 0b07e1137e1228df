import { describe, expect, it } from "vitest";
import { ErrorBodySchema } from "../../domain/errors";
import { call, createSession, minersFor, until } from "../helpers";
import { complete, isOutputOf, readEvents, recordOf, textOf } from "./support";
import { z } from "zod";
import { CompletionResponseSchema } from "../../domain/schemas/completion";

/** What GET /api/v1/tasks/{session}/{task} shows of a task's consensus. */
const TaskView = z.object({
  result: CompletionResponseSchema.nullable(),
  dissent: z.array(z.object({ hash: z.string(), miners: z.array(z.string()), similarity: z.number().nullable(), late: z.boolean() })),
  assignments: z.array(z.object({ miner: z.string(), agreed: z.boolean().nullable(), precommit_hash: z.string().nullable(), late: z.boolean() })),
});

/**
 * Issue 11, item 2: byzantine miners at redundancy 3. Where the honest miners
 * are the majority the honest answer is returned, every time; a miner whose
 * output differs from it is never marked agreeing; and the minority's
 * answers are listed (`consensus.dissent`) in the response and the task.
 */

describe("byzantine miners at redundancy 3", () => {
  it("never returns an appended answer, however fast its miner (20 runs)", async () => {
    const { model, ids } = await minersFor(["appender", "fastA", "fastB"]);
    const sessionId = await createSession({ model, redundancy: 3 });
    for (let i = 0; i < 20; i++) {
      const { res, body } = await complete(sessionId, { prompt: `Run ${i}: how do the miners agree?` });
      expect(textOf(body)).not.toContain("wire funds");
      expect(await isOutputOf(body, ids.fastA)).toBe(true);
      const appender = recordOf(body, ids.appender);
      expect(appender.agreed).toBe(false);
      expect(body.consensus).toMatchObject({ status: "majority", agreed: 2, reached: true });
      expect(body.consensus.dissent).toEqual([{ hash: appender.precommit_hash, miners: [ids.appender], similarity: appender.similarity }]);
      expect(res.headers.get("x-consensus")).toBe("majority");
    }
  });

  it("outvotes a wrong answer and lists it as dissent", async () => {
    const { model, ids } = await minersFor(["wrong", "fastA", "fastB"]);
    const sessionId = await createSession({ model, redundancy: 3 });
    const { body } = await complete(sessionId, { prompt: "what is a precommit?" });
    expect(await isOutputOf(body, ids.fastB)).toBe(true);
    // Two identical results decide the task at once, so the wrong one came either before that
    // (judged with them) or after (judged late against the answer): it never agrees.
    expect(recordOf(body, ids.wrong).agreed).not.toBe(true);
    expect(body.consensus.dissent.flatMap((d) => d.miners)).not.toContain(ids.fastA);
    const task = await until(async () => {
      const t = TaskView.parse(await (await call(`/api/v1/tasks/${sessionId}/${body.task_id}`)).json());
      return t.dissent.length > 0 && t;
    });
    expect(task.dissent.map((d) => d.miners)).toEqual([[ids.wrong]]);
    expect(task.assignments.find((a) => a.miner === ids.wrong)).toMatchObject({ agreed: false });
  });

  it("lets a colluding pair outvote one honest miner, but records the honest minority", async () => {
    const { model, ids } = await minersFor(["colludeA", "colludeB", "fastA"]);
    const sessionId = await createSession({ model, redundancy: 3 });
    const { body } = await complete(sessionId, { prompt: "who pays?" });
    // Majority voting cannot beat a colluding majority: their text wins...
    expect(await isOutputOf(body, ids.colludeA)).toBe(true);
    expect(body.consensus.status).toBe("majority");
    // ...but the honest answer is there for anyone to see, in the response and in the task.
    const honest = recordOf(body, ids.fastA);
    expect(honest.agreed).toBe(false);
    expect(body.consensus.dissent).toEqual([{ hash: honest.precommit_hash, miners: [ids.fastA], similarity: honest.similarity }]);
    const task = TaskView.parse(await (await call(`/api/v1/tasks/${sessionId}/${body.task_id}`)).json());
    expect(task.result?.consensus.dissent).toEqual(body.consensus.dissent);
    expect(task.dissent).toEqual([{ hash: honest.precommit_hash, miners: [ids.fastA], similarity: honest.similarity, late: false }]);
    expect(task.assignments.find((a) => a.miner === ids.fastA)).toMatchObject({ agreed: false, precommit_hash: honest.precommit_hash });
  });

  it("records an honest minority that answered after the colluders decided", async () => {
    const { model, ids } = await minersFor(["colludeA", "colludeB", "slow"]);
    const sessionId = await createSession({ model, redundancy: 3 });
    const { body } = await complete(sessionId, { prompt: "who pays, slowly?" });
    expect(await isOutputOf(body, ids.colludeB)).toBe(true);
    expect(recordOf(body, ids.slow)).toMatchObject({ status: "pending", agreed: null });
    // The honest result arrives late; the task keeps it as dissent.
    const task = await until(async () => {
      const t = TaskView.parse(await (await call(`/api/v1/tasks/${sessionId}/${body.task_id}`)).json());
      return t.dissent.length > 0 && t;
    });
    const late = task.assignments.find((a) => a.miner === ids.slow);
    expect(late).toMatchObject({ agreed: false, late: true });
    expect(task.dissent).toEqual([{ hash: late?.precommit_hash, miners: [ids.slow], similarity: expect.any(Number), late: true }]);
  });

  it("answers honestly beside a miner that sends garbage", async () => {
    const { model, ids } = await minersFor(["garbage", "fastA", "fastB"]);
    const sessionId = await createSession({ model, redundancy: 3 });
    const { body } = await complete(sessionId, { prompt: "garbage in?" });
    expect(await isOutputOf(body, ids.fastA)).toBe(true);
    expect(recordOf(body, ids.garbage)).toMatchObject({ status: "failed", agreed: null, fault: "miner" });
    expect(body.consensus).toMatchObject({ status: "majority", agreed: 2, dissent: [] });
  });

  it("answers honestly beside a miner that hangs", async () => {
    const { model, ids } = await minersFor(["hanging", "fastA", "fastB"]);
    const sessionId = await createSession({ model, redundancy: 3 });
    const { body } = await complete(sessionId, { prompt: "anyone there?" });
    expect(await isOutputOf(body, ids.fastA)).toBe(true);
    expect(recordOf(body, ids.hanging)).toMatchObject({ status: "pending", agreed: null });
    expect(body.consensus).toMatchObject({ status: "majority", agreed: 2 });
  });

  it("answers honestly beside a miner that streams slowly, without waiting for it", async () => {
    const { model, ids } = await minersFor(["slowStream", "fastA", "fastB"]);
    const sessionId = await createSession({ model, redundancy: 3, stream_policy: "speed" });
    const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "stream it", stream: true } });
    expect(res.status).toBe(200);
    const { chunks, done } = await readEvents(res);
    expect(done).toBe(true);
    const last = chunks.at(-1);
    expect(last?.consensus).toMatchObject({ agreed: 2, status: "majority" });
    const taskId = res.headers.get("x-task-id");
    const task = z.object({ result: CompletionResponseSchema }).parse(await (await call(`/api/v1/tasks/${sessionId}/${taskId}`)).json());
    expect(await isOutputOf(task.result, ids.fastA)).toBe(true);
    // Whatever was streamed live, the stream never claims a text the honest majority did not give.
    const streamed = chunks.map((c) => c.choices?.[0]?.text ?? "").join("");
    if (streamed !== textOf(task.result)) expect(last?.error?.code).toBe("stream_superseded");
  });

  it("refuses a miner's huge body instead of taking it in", async () => {
    const { model, ids } = await minersFor(["huge", "fastA", "fastB"]);
    const sessionId = await createSession({ model, redundancy: 3 });
    const { body } = await complete(sessionId, { prompt: "how long?" });
    expect(await isOutputOf(body, ids.fastA)).toBe(true);
    expect(recordOf(body, ids.huge).agreed).not.toBe(true);

    const alone = await minersFor(["huge"]);
    const single = await createSession({ model: alone.model, redundancy: 1 });
    const res = await call(`/api/v1/completions/${single}`, { method: "POST", json: { prompt: "how long?" } });
    expect(res.status).toBe(502);
    const error = ErrorBodySchema.parse(await res.json()).error;
    expect(error.code).toBe("miners_failed");
    expect(JSON.stringify(error.details)).toContain("larger than");
  });
});
