import { describe, expect, it } from "vitest";
import { admin, call, createSession, fleet, minerInbox, minersFor, uniq } from "./helpers";

type Completion = {
  choices: { text?: string; message?: { content: string }; finish_reason: string }[];
  usage: { prompt_tokens: number; completion_tokens: number };
  task_id: number;
  consensus: { status: string; redundancy: number; agreed: number; reached: boolean };
  miners: { miner: string; status: string; precommit_hash: string | null; agreed: boolean | null }[];
};
type Chunk = { choices: { text?: string; finish_reason: string | null }[]; usage?: { completion_tokens: number }; miners?: { miner: string; agreed: boolean | null }[] };
type ErrorBody = { error: { code: string; details?: { issues?: { field: string }[] } } };

const complete = (sessionId: number, body: Record<string, unknown>) => call(`/api/v1/completions/${sessionId}`, { method: "POST", json: body });

async function readEvents(res: Response): Promise<{ chunks: Chunk[]; done: boolean }> {
  const data = (await res.text())
    .split("\n\n")
    .filter(Boolean)
    .map((e) => e.replace(/^data: /, ""));
  return { chunks: data.filter((d) => d !== "[DONE]").map((d) => JSON.parse(d) as Chunk), done: data.at(-1) === "[DONE]" };
}

describe("registering a NeuroShard miner", () => {
  it("keeps the protocol, openai by default", async () => {
    const { ids } = await minersFor(["nsA", "fastA"]);
    const ns = (await (await admin(`/api/v1/admin/miners/${ids.nsA}`, "PATCH", { max_concurrency: 3 })).json()) as { protocol: string };
    expect(ns.protocol).toBe("neuroshard");
    const listed = (await (await call("/api/v1/miners")).json()) as { miners: { id: string; protocol: string }[] };
    expect(listed.miners.find((m) => m.id === ids.fastA)?.protocol).toBe("openai");
  });

  it("refuses an unknown protocol with 400 naming it, and writes nothing", async () => {
    const id = uniq("bad-protocol");
    const res = await admin("/api/v1/admin/miners", "POST", { id, url: fleet().nsA.url, credential: "x", protocol: "grpc" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.details!.issues!.map((i) => i.field)).toContain("protocol");
    expect((await admin(`/api/v1/admin/miners/${id}`, "PATCH", { max_concurrency: 2 })).status).toBe(404);
  });

  it("refuses off-chain delivery for a NeuroShard miner, naming offchain", async () => {
    const id = uniq("ns-offchain");
    const res = await admin("/api/v1/admin/miners", "POST", { id, url: fleet().nsA.url, credential: "x", protocol: "neuroshard", offchain: true });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.details!.issues!.map((i) => i.field)).toEqual(["offchain"]);
  });

  it("is health-checked at GET /api/v1/health with its credential", async () => {
    const { ids } = await minersFor(["nsA"]);
    const badId = uniq("ns-badkey");
    expect((await admin("/api/v1/admin/miners", "POST", { id: badId, url: fleet().nsA.url, credential: "wrong", protocol: "neuroshard", models: [uniq("m")] })).status).toBe(201);
    const { results } = (await (await admin("/api/v1/admin/miners/health-check", "POST")).json()) as { results: { id: string; healthy: boolean; error: string | null }[] };
    expect(results.find((r) => r.id === ids.nsA)).toEqual({ id: ids.nsA, healthy: true, error: null });
    expect(results.find((r) => r.id === badId)).toMatchObject({ healthy: false, error: expect.stringContaining("401") });
  });
});

describe("a session over OpenAI and NeuroShard miners", () => {
  it("agrees at redundancy 3 over two OpenAI and one NeuroShard dev miner", async () => {
    const { model, ids } = await minersFor(["fastA", "fastB", "nsA"]);
    const sessionId = await createSession({ model, redundancy: 3, commit_policy: "all" });
    const prompt = `Mixed consensus ${uniq("p")}`;
    const res = await complete(sessionId, { prompt, max_tokens: 24, top_k: 40 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Completion;
    expect(body.consensus).toMatchObject({ status: "unanimous", redundancy: 3, agreed: 3, reached: true });
    expect(new Set(body.miners.map((m) => m.precommit_hash)).size).toBe(1);
    expect(body.miners.map((m) => m.miner).sort()).toEqual([ids.fastA, ids.fastB, ids.nsA].sort());
    // The NeuroShard node got the seed's request at its own path, top_k included.
    const sent = (await minerInbox("nsA")).find((r) => r.body["prompt"] === prompt);
    expect(sent).toMatchObject({ path: "/api/v1/inference", body: { prompt, max_tokens: 24, top_k: 40, stream: false } });
  });

  it("agrees on chat messages too", async () => {
    const { model } = await minersFor(["fastA", "nsA", "nsB"]);
    const sessionId = await createSession({ model, redundancy: 3, commit_policy: "all" });
    const res = await complete(sessionId, { messages: [{ role: "user", content: `chat ${uniq("c")}` }], max_tokens: 12 });
    const body = (await res.json()) as Completion;
    expect(body.consensus).toMatchObject({ status: "unanimous", agreed: 3 });
    expect(body.choices[0]!.message!.content.split(" ")).toHaveLength(12);
  });

  it("outvotes a NeuroShard miner that answers wrongly", async () => {
    const { model, ids } = await minersFor(["fastA", "fastB", "nsWrong"]);
    const sessionId = await createSession({ model, redundancy: 3, commit_policy: "all" });
    const body = (await (await complete(sessionId, { prompt: `outvote ${uniq("o")}` })).json()) as Completion;
    expect(body.consensus).toMatchObject({ status: "majority", agreed: 2 });
    expect(body.miners.find((m) => m.miner === ids.nsWrong)).toMatchObject({ status: "committed", agreed: false });
  });
});

describe("a NeuroShard miner's stream", () => {
  it("reaches a v1 streaming client intact, equal to the non-streaming answer", async () => {
    const { model, ids } = await minersFor(["nsStreamer"]);
    const sessionId = await createSession({ model, redundancy: 1 });
    const prompt = `stream me ${uniq("s")}`;
    const res = await complete(sessionId, { prompt, max_tokens: 15, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const { chunks, done } = await readEvents(res);
    expect(done).toBe(true);
    const pieces = chunks.slice(0, -1);
    expect(pieces).toHaveLength(15);
    const last = chunks.at(-1)!;
    expect(last.choices[0]!.finish_reason).toBe("length");
    expect(last.usage!.completion_tokens).toBe(15);
    expect(last.miners).toEqual([expect.objectContaining({ miner: ids.nsStreamer, agreed: true })]);
    const streamed = pieces.map((c) => c.choices[0]!.text).join("");

    const plain = (await (await complete(sessionId, { prompt, max_tokens: 15 })).json()) as Completion;
    expect(streamed).toBe(plain.choices[0]!.text);
    expect((await minerInbox("nsStreamer")).filter((r) => r.body["prompt"] === prompt).map((r) => r.body["stream"])).toEqual([true, false]);
  });

  it("streams across a mixed redundancy-3 session, the closing chunk with every miner agreeing", async () => {
    const { model, ids } = await minersFor(["fastA", "fastB", "nsStreamer"]);
    const sessionId = await createSession({ model, redundancy: 3, commit_policy: "all" });
    const prompt = `mixed stream ${uniq("ms")}`;
    const { chunks, done } = await readEvents(await complete(sessionId, { prompt, max_tokens: 10, stream: true }));
    expect(done).toBe(true);
    const last = chunks.at(-1)!;
    expect(last.miners?.map((m) => m.miner).sort()).toEqual([ids.fastA, ids.fastB, ids.nsStreamer].sort());
    expect(last.miners?.every((m) => m.agreed === true)).toBe(true);
    const plain = (await (await complete(sessionId, { prompt, max_tokens: 10 })).json()) as Completion;
    expect(
      chunks
        .slice(0, -1)
        .map((c) => c.choices[0]?.text ?? "")
        .join(""),
    ).toBe(plain.choices[0]!.text);
  });
});
