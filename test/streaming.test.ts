import { describe, expect, it } from "vitest";
import { call, createSession, minersFor } from "./helpers";

type Chunk = {
  id: string;
  object: string;
  session_id: number;
  task_id: number;
  choices: { text?: string; delta?: { role?: string; content?: string }; finish_reason: string | null }[];
  usage?: { completion_tokens: number };
  miners?: { miner: string; agreed: boolean | null }[];
  error?: { code: string };
};

async function readEvents(res: Response): Promise<{ chunks: Chunk[]; done: boolean }> {
  const raw = await res.text();
  const data = raw
    .split("\n\n")
    .filter(Boolean)
    .map((e) => e.replace(/^data: /, ""));
  return { chunks: data.filter((d) => d !== "[DONE]").map((d) => JSON.parse(d) as Chunk), done: data.at(-1) === "[DONE]" };
}

const stream = (sessionId: number, body: Record<string, unknown>) => call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { ...body, stream: true } });

describe("live streaming (redundancy 1)", () => {
  it("passes the miner's stream through and records the same text", async () => {
    const { model, ids } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model, redundancy: 1 });
    const res = await stream(sessionId, { prompt: "Tell me about routers", max_tokens: 20 });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const { chunks, done } = await readEvents(res);
    expect(done).toBe(true);
    const pieces = chunks.slice(0, -1);
    expect(pieces.length).toBe(20);
    expect(chunks.every((c) => c.object === "text_completion" && c.id === `cmpl-${sessionId}-0` && c.task_id === 0)).toBe(true);
    const last = chunks.at(-1)!;
    expect(last.choices[0]!.finish_reason).toBe("length");
    expect(last.usage!.completion_tokens).toBe(20);
    expect(last.miners).toEqual([expect.objectContaining({ miner: ids.fastA, agreed: true })]);
    expect(last.error).toBeUndefined();

    const task = (await (await call(`/api/v1/tasks/${sessionId}/0`)).json()) as { status: string; result: { choices: { text: string }[] } };
    expect(task.status).toBe("ended");
    expect(pieces.map((c) => c.choices[0]!.text).join("")).toBe(task.result.choices[0]!.text);
  });

  it("delivers text while the miner is still generating", async () => {
    const { model } = await minersFor(["trickle"]);
    const sessionId = await createSession({ model });
    const res = await stream(sessionId, { prompt: "slowly", max_tokens: 10 });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/^data: \{/);
    // The first piece is here; the task is still running (the trickling miner
    // takes seconds over the rest, so this look comes first).
    const during = (await (await call(`/api/v1/tasks/${sessionId}/0`)).json()) as { status: string };
    expect(["assigned", "precommitted"]).toContain(during.status);
    while (!(await reader.read()).done);
    const after = (await (await call(`/api/v1/tasks/${sessionId}/0`)).json()) as { status: string };
    expect(after.status).toBe("ended");
  });

  it("streams chat deltas, the first with the role", async () => {
    const { model } = await minersFor(["fastB"]);
    const sessionId = await createSession({ model });
    const { chunks } = await readEvents(await stream(sessionId, { messages: [{ role: "user", content: "hi" }], max_tokens: 5 }));
    expect(chunks.every((c) => c.object === "chat.completion.chunk")).toBe(true);
    expect(chunks[0]!.choices[0]!.delta).toMatchObject({ role: "assistant" });
    expect(
      chunks
        .slice(0, -1)
        .map((c) => c.choices[0]!.delta!.content)
        .join("")
        .split(" "),
    ).toHaveLength(5);
  });

  it("answers an error status, not a stream, when the task fails before any text", async () => {
    const sessionId = await createSession({ model: "nobody-serves-this" });
    const res = await stream(sessionId, { prompt: "x" });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: "no_miners_available" } });
  });

  it("replays a finished streamed task as a stream without dispatching", async () => {
    const { model } = await minersFor(["fastC"]);
    const sessionId = await createSession({ model });
    const first = await readEvents(await stream(sessionId, { prompt: "again", request_id: "stream-replay" }));
    const again = await stream(sessionId, { prompt: "again", request_id: "stream-replay" });
    expect(again.headers.get("x-idempotent-replay")).toBe("true");
    const second = await readEvents(again);
    const text = (r: { chunks: Chunk[] }) => r.chunks.map((c) => c.choices[0]!.text ?? "").join("");
    expect(text(second)).toBe(text(first));
  });
});

describe("streaming with redundancy 3", () => {
  it("streams only the agreed output under the consensus policy", async () => {
    const { model, ids } = await minersFor(["wrong", "fastA", "fastB"]);
    // Commit policy "all": the wrong answer is judged whatever order the three arrive in.
    const sessionId = await createSession({ model, redundancy: 3, commit_policy: "all" });
    const { chunks } = await readEvents(await stream(sessionId, { prompt: "agreed only" }));
    const last = chunks.at(-1)!;
    expect(last.error).toBeUndefined();
    expect(last.miners!.find((m) => m.miner === ids.wrong)!.agreed).toBe(false);
    const task = (await (await call(`/api/v1/tasks/${sessionId}/0`)).json()) as { result: { choices: { text: string }[] } };
    expect(
      chunks
        .slice(0, -1)
        .map((c) => c.choices[0]!.text)
        .join(""),
    ).toBe(task.result.choices[0]!.text);
  });

  type StreamedTask = { result: { choices: { text: string }[] }; assignments: { miner: string; output: string | null; agreed: boolean | null }[] };
  const textOf = (chunks: Chunk[]) =>
    chunks
      .slice(0, -1)
      .map((c) => c.choices[0]!.text)
      .join("");

  it("under the speed policy streams the first miner live, and ends without an error when consensus agrees with it", async () => {
    // The fast miners answer (and stream) long before the wrong one; "all"
    // makes the task wait for the wrong one, so there is a disagreement, just
    // not with what was streamed.
    const { model, ids } = await minersFor(["fastA", "fastB", "wrongSlow"]);
    const sessionId = await createSession({ model, redundancy: 3, stream_policy: "speed", commit_policy: "all" });
    const { chunks, done } = await readEvents(await stream(sessionId, { prompt: "fast please" }));
    expect(done).toBe(true);
    const task = (await (await call(`/api/v1/tasks/${sessionId}/0`)).json()) as StreamedTask;
    expect(task.assignments.find((a) => a.miner === ids.wrongSlow)!.agreed).toBe(false);
    expect(textOf(chunks)).toBe(task.result.choices[0]!.text);
    const last = chunks.at(-1)!;
    expect(last.error).toBeUndefined();
    expect(last.miners!.find((m) => m.miner === ids.wrongSlow)!.agreed).toBe(false);
  });

  it("under the speed policy streams the first miner live, and says so when consensus disagrees with it", async () => {
    // The wrong miner answers first by half a second: it is the one streamed, and then outvoted.
    const { model, ids } = await minersFor(["wrong", "steadyA", "steadyB"]);
    const sessionId = await createSession({ model, redundancy: 3, stream_policy: "speed" });
    const { chunks, done } = await readEvents(await stream(sessionId, { prompt: "fast please" }));
    expect(done).toBe(true);
    const task = (await (await call(`/api/v1/tasks/${sessionId}/0`)).json()) as StreamedTask;
    const streamed = textOf(chunks);
    expect(streamed).toBe(task.assignments.find((a) => a.miner === ids.wrong)!.output);
    expect(streamed).not.toBe(task.result.choices[0]!.text);
    const last = chunks.at(-1)!;
    expect(last.error).toMatchObject({ code: "stream_superseded" });
    expect(last.miners!.find((m) => m.miner === ids.wrong)!.agreed).toBe(false);
  });
});
