import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ErrorBodySchema } from "../../domain/errors";
import { SessionSchema } from "../../domain/schemas/session";
import { admin, call, createSession, minersFor } from "../helpers";
import { complete, readEvents } from "./support";

/**
 * Issue 11, item 7: an answer that came from fewer miners than asked for is
 * impossible to miss (`consensus.status` and the `x-consensus` header), and a
 * session can require a majority or every miner to agree.
 */

const post = (sessionId: number, json: Record<string, unknown>) => call(`/api/v1/completions/${sessionId}`, { method: "POST", json });

describe("consensus status", () => {
  it("says unanimous when every miner gave the answer", async () => {
    const { model } = await minersFor(["fastA", "fastB", "fastC"]);
    // commit_policy "all": the task waits for every miner (with "quorum" it decides at the first exact majority).
    const sessionId = await createSession({ model, redundancy: 3, commit_policy: "all" });
    const { res, body } = await complete(sessionId, { prompt: "all of you" });
    expect(body.consensus).toMatchObject({ status: "unanimous", agreed: 3, reached: true, dissent: [] });
    expect(res.headers.get("x-consensus")).toBe("unanimous");
  });

  it("says single, in the body and a header, when a redundancy-3 answer came from one miner", async () => {
    const { model, ids } = await minersFor(["fastA", "failing"]);
    const sessionId = await createSession({ model, redundancy: 3 });
    const { res, body } = await complete(sessionId, { prompt: "just one of you" });
    expect(body.consensus).toMatchObject({ status: "single", redundancy: 3, agreed: 1, reached: false });
    expect(res.headers.get("x-consensus")).toBe("single");
    expect(body.miners.find((m) => m.miner === ids.failing)).toMatchObject({ status: "failed" });
    // A replay answers the same, header included.
    const again = await post(sessionId, { prompt: "once", request_id: "status-replay" });
    const replay = await post(sessionId, { prompt: "once", request_id: "status-replay" });
    expect(replay.headers.get("x-consensus")).toBe(again.headers.get("x-consensus"));
  });

  it("says single for a redundancy-1 session, whose one miner is all it asked for", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model, redundancy: 1, consensus_policy: "unanimous" });
    const { res, body } = await complete(sessionId, { prompt: "only you" });
    expect(body.consensus).toMatchObject({ status: "single", agreed: 1, reached: true });
    expect(res.headers.get("x-consensus")).toBe("single");
  });

  it("carries the same record in a stream's closing chunk", async () => {
    const { model, ids } = await minersFor(["wrong", "fastA", "fastB"]);
    const sessionId = await createSession({ model, redundancy: 3 });
    const res = await post(sessionId, { prompt: "stream the vote", stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-consensus")).toBe("majority");
    const { chunks } = await readEvents(res);
    expect(chunks.at(-1)?.consensus).toMatchObject({ status: "majority", agreed: 2, dissent: [{ miners: [ids.wrong] }] });
  });
});

describe("consensus policy", () => {
  it("is a session setting: majority or unanimous, validated on create and PATCH", async () => {
    const sessionId = await createSession({ redundancy: 3, owner: "0x1111111111111111111111111111111111111111" });
    const session = SessionSchema.parse(await (await call(`/api/v1/sessions/${sessionId}`)).json());
    expect(session.consensus_policy).toBe("best_effort");
    const bad = await admin(`/api/v1/admin/sessions/${sessionId}`, "PATCH", { consensus_policy: "most" });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(ErrorBodySchema.parse(await bad.json()).error.details)).toContain('"field":"consensus_policy"');
    const patched = await admin(`/api/v1/admin/sessions/${sessionId}`, "PATCH", { consensus_policy: "majority" });
    expect(patched.status).toBe(200);
    expect(SessionSchema.parse(await patched.json()).consensus_policy).toBe("majority");
  });

  it("majority: a redundancy-3 task answered by one miner fails with consensus_not_reached", async () => {
    const { model, ids } = await minersFor(["fastA", "failing"]);
    const sessionId = await createSession({ model, redundancy: 3, consensus_policy: "majority" });
    const res = await post(sessionId, { prompt: "one is not enough" });
    expect(res.status).toBe(502);
    const error = ErrorBodySchema.parse(await res.json()).error;
    expect(error).toMatchObject({ code: "consensus_not_reached", details: { status: "single", agreed: 1, required: 2, redundancy: 3 } });
    const task = z.object({ status: z.string(), error: z.object({ code: z.string() }) }).parse(await (await call(`/api/v1/tasks/${sessionId}/0`)).json());
    expect(task).toMatchObject({ status: "failed", error: { code: "consensus_not_reached" } });
    expect(ids.fastA).toBeTruthy();
  });

  it("majority: a 2-of-3 answer still answers", async () => {
    const { model } = await minersFor(["wrong", "fastA", "fastB"]);
    const sessionId = await createSession({ model, redundancy: 3, consensus_policy: "majority" });
    const { body } = await complete(sessionId, { prompt: "two will do" });
    expect(body.consensus.status).toBe("majority");
  });

  it("unanimous: one dissenting miner fails the task, with the dissent in the error", async () => {
    const { model, ids } = await minersFor(["wrong", "fastA", "fastB"]);
    const sessionId = await createSession({ model, redundancy: 3, consensus_policy: "unanimous" });
    const res = await post(sessionId, { prompt: "all or nothing" });
    expect(res.status).toBe(502);
    const error = ErrorBodySchema.parse(await res.json()).error;
    expect(error).toMatchObject({ code: "consensus_not_reached", details: { status: "majority", agreed: 2, required: 3, dissent: [{ miner: ids.wrong }] } });

    const { model: all } = await minersFor(["fastA", "fastB", "fastC"]);
    const unanimous = await createSession({ model: all, redundancy: 3, consensus_policy: "unanimous" });
    expect((await complete(unanimous, { prompt: "all of you agree" })).body.consensus.status).toBe("unanimous");
  });
});
