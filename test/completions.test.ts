import { afterEach, describe, expect, it, vi } from "vitest";
import { flushReports } from "./report-flush";
import { call, createSession, minerRequests, minersFor, until } from "./helpers";

type Completion = {
  id: string;
  object: string;
  choices: { text?: string; message?: { content: string }; finish_reason: string }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  session_id: number;
  task_id: number;
  request_id: string | null;
  consensus: { redundancy: number; quorum: number; agreed: number; reached: boolean };
  miners: { miner: string; status: string; latency_ms: number | null; precommit_hash: string | null; agreed: boolean | null }[];
};
type ErrorBody = { error: { code: string; message: string; details?: { issues?: { field: string }[] } } };

const complete = (sessionId: number | null, body: Record<string, unknown>) =>
  call(sessionId === null ? "/api/v1/completions" : `/api/v1/completions/${sessionId}`, { method: "POST", json: body });

async function sha256(text: string) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Stops the clock, in the test and in the Durable Objects alike (they share
 * its isolate; only Date is faked, timers run as ever). A Session keeps its
 * view of the registry until the view is 2 s old, a report flush renews it,
 * or a failure leaves it nothing to pick; with the clock stopped it is never
 * old, so what the Session picks from is known.
 * Call it before the session is created.
 */
function stopClock() {
  vi.useFakeTimers({ toFake: ["Date"] });
}

describe("completions, redundancy 1", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("answers with an OpenAI-style completion and the miner record", async () => {
    const { model, ids } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model, redundancy: 1 });
    const res = await complete(sessionId, { prompt: "Hello, how are you?", stream: false, timeout: 60 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Completion;
    expect(body).toMatchObject({ object: "text_completion", model, session_id: sessionId, task_id: 0, consensus: { redundancy: 1, agreed: 1, reached: true } });
    expect(body.id).toBe(`cmpl-${sessionId}-0`);
    const text = body.choices[0]!.text!;
    expect(text.length).toBeGreaterThan(0);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
    expect(body.miners).toEqual([expect.objectContaining({ miner: ids.fastA, status: "committed", agreed: true, precommit_hash: await sha256(text) })]);

    const task = (await (await call(`/api/v1/tasks/${sessionId}/0`)).json()) as {
      status: string;
      assignments: { status: string; precommit_hash: string; output: string }[];
      events: { state: string }[];
    };
    expect(task.status).toBe("ended");
    expect(task.assignments[0]).toMatchObject({ status: "ended", precommit_hash: await sha256(text), output: text });
    expect(task.events.filter((e) => e.state !== "acked").map((e) => e.state)).toEqual(expect.arrayContaining(["queued", "assigned", "precommitted", "committed", "ended"]));
  });

  it("takes the session from the body, and chat messages", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const res = await complete(null, { session_id: sessionId, messages: [{ role: "user", content: "Hi there" }] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Completion;
    expect(body.object).toBe("chat.completion");
    expect(body.choices[0]!.message!.content.length).toBeGreaterThan(0);
  });

  it("replaces a failing miner while time remains", async () => {
    stopClock();
    const { model, ids } = await minersFor(["failing"]);
    const sessionId = await createSession({ model });
    // Only the failing miner: the task fails, with the miner's record.
    const failed = await complete(sessionId, { prompt: "p", timeout: 10 });
    expect(failed.status).toBe(502);
    expect(((await failed.json()) as ErrorBody).error.code).toBe("miners_failed");

    const { ids: spare } = await minersFor(["spare"], { model });
    // The session still sees only the failing miner (see stopClock): the next
    // task goes to it first, fails there, and is replaced by the spare.
    const replaced = await complete(sessionId, { prompt: "p0", timeout: 10 });
    expect(replaced.status).toBe(200);
    expect(((await replaced.json()) as Completion).miners).toEqual([
      expect.objectContaining({ miner: ids.failing, status: "failed", agreed: null }),
      expect.objectContaining({ miner: spare.spare, status: "committed", agreed: true }),
    ]);
    // From then on, whichever is picked first, the answer comes from the healthy one.
    for (let i = 1; i < 3; i++) {
      const res = await complete(sessionId, { prompt: `p${i}`, timeout: 10 });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Completion;
      expect([[spare.spare], [ids.failing, spare.spare]]).toContainEqual(body.miners.map((m) => m.miner));
      expect(body.miners.at(-1)).toMatchObject({ miner: spare.spare, agreed: true });
    }
  });

  it("times out a hanging miner at the precommit deadline and answers from a replacement", async () => {
    stopClock();
    const { model, ids } = await minersFor(["hanging"]);
    const sessionId = await createSession({ model });
    // The precommit deadline is kept by a timer (timers are real); the task's
    // deadline is far off so that only the precommit deadline is in play.
    const alone = await complete(sessionId, { prompt: "hang", timeout: 30, precommit_timeout: 2 });
    expect(alone.status).toBe(504);
    expect(((await alone.json()) as ErrorBody).error.code).toBe("timeout");
    const task = (await (await call(`/api/v1/tasks/${sessionId}/0`)).json()) as { status: string; assignments: { status: string }[] };
    expect(task.status).toBe("timed_out");
    expect(task.assignments.map((a) => a.status)).toEqual(["timed_out"]);

    const fastId = (await minersFor(["fastB"], { model })).ids.fastB!;
    // The session still sees only the hanging miner (see stopClock): the next
    // task goes to it first, times out at the precommit deadline, and is
    // answered by the healthy miner as its replacement.
    const replaced = await complete(sessionId, { prompt: "hang0", timeout: 30, precommit_timeout: 2 });
    expect(replaced.status).toBe(200);
    expect(((await replaced.json()) as Completion).miners).toEqual([
      expect.objectContaining({ miner: ids.hanging, status: "timed_out", agreed: null }),
      expect.objectContaining({ miner: fastId, status: "committed", agreed: true }),
    ]);
    // From then on, whichever is picked first, the task answers from the healthy miner.
    for (let i = 1; i < 3; i++) {
      const res = await complete(sessionId, { prompt: `hang${i}`, timeout: 30, precommit_timeout: 2 });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Completion;
      expect([[fastId], [ids.hanging, fastId]]).toContainEqual(body.miners.map((m) => m.miner));
      expect(body.miners.at(-1)).toMatchObject({ miner: fastId, agreed: true });
    }
  });

  it("gives 503 when no miner serves the session's model", async () => {
    const sessionId = await createSession({ model: "model-nobody-serves" });
    const res = await complete(sessionId, { prompt: "x" });
    expect(res.status).toBe(503);
    expect(((await res.json()) as ErrorBody).error.code).toBe("no_miners_available");
  });
});

describe("completions, redundancy 3", () => {
  it("reaches consensus across three miners", async () => {
    const { model } = await minersFor(["fastA", "fastB", "fastC"]);
    const sessionId = await createSession({ model, redundancy: 3, commit_policy: "all" });
    const res = await complete(sessionId, { prompt: "What is Cortensor?", max_tokens: 32 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Completion;
    expect(body.consensus).toMatchObject({ redundancy: 3, quorum: 2, agreed: 3, reached: true });
    expect(body.miners).toHaveLength(3);
    expect(new Set(body.miners.map((m) => m.precommit_hash)).size).toBe(1);
    expect(body.miners.every((m) => m.agreed === true)).toBe(true);
  });

  it("outvotes a miner that answers wrongly, and its reputation falls", async () => {
    const { model, ids } = await minersFor(["wrong", "fastA", "fastB"]);
    // Commit policy "all": the wrong answer is judged whatever order the three
    // arrive in (under "quorum" the two right ones, arriving first on a busy
    // machine, would decide without it).
    const sessionId = await createSession({ model, redundancy: 3, commit_policy: "all" });
    const before = await reputation(ids.wrong!);
    const res = await complete(sessionId, { prompt: "Explain consensus." });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Completion;
    const wrong = body.miners.find((m) => m.miner === ids.wrong)!;
    expect(wrong.agreed).toBe(false);
    expect(body.miners.filter((m) => m.agreed)).toHaveLength(2);
    expect(body.consensus).toMatchObject({ agreed: 2, reached: true });
    // The Session queues its reports and sends them in a batch (its alarm): send them now
    // (false if the alarm fired already, having sent them).
    await flushReports(sessionId);
    expect(await reputation(ids.wrong!)).toBeLessThan(before);
    expect(await reputation(ids.fastA!)).toBeGreaterThan(before);
  });

  it("answers once a majority agrees, without waiting for the slowest, and records the late result", async () => {
    const { model, ids } = await minersFor(["fastA", "fastB", "slow"]);
    const sessionId = await createSession({ model, redundancy: 3 });
    const res = await complete(sessionId, { prompt: "quick", timeout: 20, precommit_timeout: 10 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Completion;
    const slow = body.miners.find((m) => m.miner === ids.slow)!;
    expect(slow.status).toBe("pending");
    expect(body.consensus.agreed).toBe(2);
    // The slow miner answers seconds after the response: poll the task's record.
    const late = await until(async () => {
      const task = (await (await call(`/api/v1/tasks/${sessionId}/${body.task_id}`)).json()) as {
        assignments: { miner: string; late: boolean; agreed: boolean | null; precommit_hash: string | null }[];
      };
      return task.assignments.find((a) => a.miner === ids.slow && a.late);
    });
    expect(late).toMatchObject({ agreed: true, precommit_hash: body.miners.find((m) => m.agreed)!.precommit_hash });
  });
});

describe("idempotency", () => {
  it("returns the first task's result for a repeated request_id and dispatches nothing new", async () => {
    const { model } = await minersFor(["fastC"]);
    const sessionId = await createSession({ model });
    const request = { prompt: "only once", request_id: "req-once-1" };
    const first = (await (await complete(sessionId, request)).json()) as Completion;
    const served = await minerRequests("fastC");
    const again = await complete(sessionId, request);
    expect(again.status).toBe(200);
    expect(again.headers.get("x-idempotent-replay")).toBe("true");
    expect(await again.json()).toEqual(first);
    expect(await minerRequests("fastC")).toBe(served);
    const tasks = (await (await call(`/api/v1/tasks/${sessionId}`)).json()) as { tasks: unknown[] };
    expect(tasks.tasks).toHaveLength(1);

    const conflict = await complete(sessionId, { prompt: "other work", request_id: "req-once-1" });
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as ErrorBody).error.code).toBe("idempotency_conflict");
  });
});

describe("streaming", () => {
  it("streams OpenAI-style events ending in [DONE], with the agreed text", async () => {
    const { model } = await minersFor(["wrong", "fastA", "fastB"]);
    const sessionId = await createSession({ model, redundancy: 3 });
    const res = await complete(sessionId, { prompt: "stream me", stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const raw = await res.text();
    const events = raw
      .split("\n\n")
      .filter(Boolean)
      .map((e) => e.replace(/^data: /, ""));
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { object: string; choices: { text: string; finish_reason: string | null }[] });
    expect(chunks.every((c) => c.object === "text_completion")).toBe(true);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("stop");
    const streamed = chunks.map((c) => c.choices[0]!.text).join("");
    const replay = (await (await complete(sessionId, { prompt: "stream me" })).json()) as Completion;
    expect(streamed).toBe(replay.choices[0]!.text);
  });
});

describe("errors", () => {
  it("names the field for bad input and writes nothing", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const cases: [Record<string, unknown>, string][] = [
      [{ prompt: 42 }, "prompt"],
      [{}, "prompt"],
      [{ prompt: "x", stream: "yes" }, "stream"],
      [{ prompt: "x", timeout: 10, precommit_timeout: 20 }, "timeout"],
      [{ prompt: "x", max_tokens: -1 }, "max_tokens"],
      [{ prompt: "x", temperature: 9 }, "temperature"],
      [{ prompt: "x", request_id: "bad id with spaces" }, "request_id"],
    ];
    for (const [body, field] of cases) {
      const res = await complete(sessionId, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const { error } = (await res.json()) as ErrorBody;
      expect(error.code).toBe("invalid_request");
      expect(error.details!.issues!.map((i) => i.field)).toContain(field);
    }
    const tasks = (await (await call(`/api/v1/tasks/${sessionId}`)).json()) as { tasks: unknown[] };
    expect(tasks.tasks).toHaveLength(0);
  });

  it("rejects a body that is not JSON", async () => {
    const res = await call("/api/v1/completions/0", { method: "POST", body: "{not json", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.code).toBe("invalid_request");
  });

  it("gives the missing-session error when no session is named", async () => {
    const res = await complete(null, { prompt: "x" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.code).toBe("missing_session");
  });

  it("gives 404 for unknown sessions and tasks", async () => {
    const unknown = 987_654_321;
    for (const res of [
      await complete(unknown, { prompt: "x" }),
      await call(`/api/v1/sessions/${unknown}`),
      await call(`/api/v1/tasks/${unknown}`),
      await call(`/api/v1/tasks/${unknown}/0`),
    ]) {
      expect(res.status).toBe(404);
      expect(((await res.json()) as ErrorBody).error.code).toBe("session_not_found");
    }
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const res = await call(`/api/v1/tasks/${sessionId}/5`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as ErrorBody).error.code).toBe("task_not_found");
  });

  it("rejects a bad session id in the path", async () => {
    const res = await call("/api/v1/completions/abc", { method: "POST", json: { prompt: "x" } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.details!.issues![0]!.field).toBe("sessionId");
  });

  it("gives 413 for an oversized body", async () => {
    const res = await complete(0, { prompt: "x".repeat(1_100_000) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as ErrorBody).error.code).toBe("payload_too_large");
  });
});

async function reputation(minerId: string): Promise<number> {
  const { miners } = (await (await call("/api/v1/miners")).json()) as { miners: { id: string; reputation: number }[] };
  return miners.find((m) => m.id === minerId)!.reputation;
}
