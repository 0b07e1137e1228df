import { AgentCard, TaskState } from "@a2a-js/sdk";
import { ClientFactory, DefaultAgentCardResolver, JsonRpcTransportFactory } from "@a2a-js/sdk/client";
import { isLegacyAgentCard, parseLegacyAgentCard } from "@a2a-js/sdk/compat/v0_3/client";
import { describe, expect, it } from "vitest";
import { call, createSession, fetchWorker, minersFor } from "./helpers";
import { TEST_ROUTER_KEY } from "./keys";

/** The Worker as an A2A client reaches it, with the A2A session configured and the router key sent. */
function a2aFetch(sessionId: number): typeof fetch {
  return async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    request.headers.set("authorization", `Bearer ${TEST_ROUTER_KEY}`);
    return (await fetchWorker(request, { A2A_SESSION_ID: String(sessionId) })).response;
  };
}

describe("A2A discovery", () => {
  it("serves one Agent Card on every discovery path, valid against the SDK's schema", async () => {
    const cards = [];
    for (const path of ["/.well-known/agent.json", "/.well-known/agent-card.json", "/api/v1/a2a/agent.json", "/api/v1/a2a/discovery"]) {
      const res = await call(path, { key: null });
      expect(res.status, path).toBe(200);
      cards.push(await res.json());
    }
    const json = cards[0] as Record<string, unknown>;
    for (const other of cards) expect(other).toEqual(json);
    // Read through the v1.0 schema and back, every v1.0 field is as served; the rest is the 0.3 form, nothing else.
    const v1 = AgentCard.toJSON(AgentCard.fromJSON(json)) as Record<string, unknown>;
    expect(json).toMatchObject(v1);
    expect(Object.keys(json).filter((k) => !(k in v1))).toEqual(["url", "protocolVersion", "preferredTransport", "security"]);
    // The SDK's v1.0 client reads it as v1.0, since it has supportedInterfaces.
    expect(isLegacyAgentCard(json)).toBe(false);
    const card = AgentCard.fromJSON(json);
    expect(card.name).toBe("cortensor-edge-router");
    expect(card.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(card.skills.map((s) => s.id)).toEqual(["completion", "delegate", "validate", "factcheck"]);
    expect(card.supportedInterfaces.map((i) => [i.protocolBinding, i.protocolVersion])).toEqual([
      ["JSONRPC", "1.0"],
      ["JSONRPC", "0.3"],
    ]);
    expect(Object.keys(card.securitySchemes)).toEqual(["bearer", "x402"]);
    expect(card.securityRequirements.map((r) => Object.keys(r.schemes))).toEqual([["bearer"]]);
    expect(card.capabilities!.extensions.map((e) => e.uri)).toEqual([expect.stringContaining("x402")]);
    // The x402 extension lists every paid route the router serves, v1 and v2: those of its OpenAPI document.
    const doc = (await (await call("/openapi.json", { key: null })).json()) as { paths: Record<string, unknown> };
    const paid = Object.keys(doc.paths).filter((p) => /^\/api\/v\d+\/x402\//.test(p));
    expect(paid).toContain("/api/v2/x402/delegate");
    expect([...(card.capabilities!.extensions[0]!.params!.routes as string[])].sort()).toEqual(paid.sort());

    // A 0.3 client reads the top-level fields (no supportedInterfaces in 0.3): the same endpoint, schemes and requirements.
    const { supportedInterfaces: _, ...asV03 } = json;
    expect(asV03).toMatchObject({ url: "http://router.test/api/v1/a2a", protocolVersion: "0.3", preferredTransport: "JSONRPC" });
    expect(isLegacyAgentCard(asV03)).toBe(true);
    const legacy = parseLegacyAgentCard(asV03);
    expect(legacy.supportedInterfaces.map((i) => [i.url, i.protocolBinding, i.protocolVersion])).toEqual([["http://router.test/api/v1/a2a", "JSONRPC", "0.3"]]);
    expect(legacy.securitySchemes).toEqual(card.securitySchemes);
    expect(legacy.securityRequirements).toEqual(card.securityRequirements);
    expect(legacy.skills.map((s) => s.id)).toEqual(card.skills.map((s) => s.id));
    expect(card.defaultInputModes).toContain("text/plain");
  });
});

describe("A2A JSON-RPC", () => {
  it("runs a message as a delegate task with the SDK's client, then gets it", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const fetchImpl = a2aFetch(sessionId);
    const factory = new ClientFactory({
      transports: [new JsonRpcTransportFactory({ fetchImpl })],
      cardResolver: new DefaultAgentCardResolver({ fetchImpl }),
    });
    const client = await factory.createFromUrl("http://router.test");
    const sent = await client.sendMessage({
      tenant: "",
      message: {
        messageId: crypto.randomUUID(),
        contextId: "",
        taskId: "",
        role: 1,
        parts: [{ content: { $case: "text", value: "Summarize what a router does." }, metadata: undefined, filename: "", mediaType: "text/plain" }],
        metadata: undefined,
        extensions: [],
        referenceTaskIds: [],
      },
      configuration: undefined,
      metadata: undefined,
    });
    const task = sent as unknown as {
      id: string;
      status: { state: TaskState };
      artifacts: { parts: { content?: { $case: string; value: string } }[]; metadata?: Record<string, unknown> }[];
    };
    expect(task.status.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const result = task.artifacts[0]!.parts[0]!.content!.value;
    expect(result.length).toBeGreaterThan(0);
    expect(task.artifacts[0]!.metadata).toMatchObject({ session_id: sessionId });

    const again = (await client.getTask({ tenant: "", id: task.id, historyLength: undefined })) as unknown as typeof task;
    expect(again.status.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(again.artifacts[0]!.parts[0]!.content!.value).toBe(result);

    // The delegate task is in the session like any other.
    const tasks = (await (await call(`/api/v1/tasks/${sessionId}`)).json()) as { tasks: { request_id: string }[] };
    expect(tasks.tasks[0]!.request_id).toBe(`a2a-${task.id}`);
  });

  it("serves the SDK's client in v0.3 compatibility mode (message/send)", async () => {
    const { model } = await minersFor(["fastC"]);
    const sessionId = await createSession({ model });
    const methods: string[] = [];
    const inner = a2aFetch(sessionId);
    const fetchImpl: typeof fetch = async (input, init) => {
      if (init?.body) methods.push((JSON.parse(String(init.body)) as { method: string }).method);
      return inner(input, init);
    };
    // The card as a 0.3-only client reads it: its top-level fields, without the v1.0 supportedInterfaces.
    const { supportedInterfaces: _, ...asV03 } = (await (await fetchImpl("http://router.test/.well-known/agent-card.json")).json()) as Record<string, unknown>;
    const legacyOnly = parseLegacyAgentCard(asV03);
    const client = await new ClientFactory({ transports: [new JsonRpcTransportFactory({ fetchImpl, legacyCompat: { enabled: true } })] }).createFromAgentCard(legacyOnly);
    const sent = (await client.sendMessage({
      tenant: "",
      message: {
        messageId: crypto.randomUUID(),
        contextId: "",
        taskId: "",
        role: 1,
        parts: [{ content: { $case: "text", value: "Hello from an older client." }, metadata: undefined, filename: "", mediaType: "text/plain" }],
        metadata: undefined,
        extensions: [],
        referenceTaskIds: [],
      },
      configuration: undefined,
      metadata: undefined,
    })) as unknown as { id: string; status: { state: TaskState } };
    expect(sent.status.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(methods).toEqual(["message/send"]);
  });

  it("accepts the v0.3 names (message/send, tasks/get, tasks/cancel) as plain JSON-RPC", async () => {
    const { model } = await minersFor(["fastB"]);
    const sessionId = await createSession({ model });
    const rpc = async (method: string, params: unknown) =>
      (await (
        await a2aFetch(sessionId)("http://router.test/api/v1/a2a", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
        })
      ).json()) as {
        result?: { kind: string; id: string; status: { state: string }; artifacts?: { parts: { kind: string; text: string }[] }[] };
        error?: { code: number; message: string };
      };
    const sent = await rpc("message/send", { message: { kind: "message", messageId: "m-1", role: "user", parts: [{ kind: "text", text: "Explain consensus briefly." }] } });
    expect(sent.error).toBeUndefined();
    expect(sent.result).toMatchObject({ kind: "task", status: { state: "completed" } });
    expect(sent.result!.artifacts![0]!.parts[0]!.text.length).toBeGreaterThan(0);
    const got = await rpc("tasks/get", { id: sent.result!.id });
    expect(got.result).toMatchObject({ id: sent.result!.id, status: { state: "completed" } });
    const cancel = await rpc("tasks/cancel", { id: sent.result!.id });
    expect(cancel.error).toMatchObject({ code: -32002 });
    const unknown = await rpc("tasks/get", { id: "no-such-task" });
    expect(unknown.error).toMatchObject({ code: -32001 });
  });

  it("needs the router key", async () => {
    const res = await call("/api/v1/a2a", { method: "POST", key: null, json: { jsonrpc: "2.0", id: 1, method: "message/send", params: {} } });
    expect(res.status).toBe(401);
  });
});
