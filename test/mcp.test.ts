import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { describe, expect, it } from "vitest";
import { createSession, minersFor, workerFetch } from "./helpers";
import { TEST_ROUTER_KEY } from "./keys";

/** The official MCP client, speaking streamable HTTP to the Worker. */
async function connect(key: string | null) {
  const transport = new StreamableHTTPClientTransport(new URL("http://router.test/mcp"), {
    fetch: workerFetch(),
    requestInit: key ? { headers: { authorization: `Bearer ${key}` } } : {},
  });
  const client = new Client({ name: "test-client", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

describe("MCP", () => {
  it("lists the router's tools", async () => {
    const client = await connect(TEST_ROUTER_KEY);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["completion", "delegate", "factcheck", "validate"]);
    expect(tools.find((t) => t.name === "delegate")!.inputSchema.required).toEqual(["objective"]);
    await client.close();
  });

  it("calls tools: delegate, validate, completion", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const client = await connect(TEST_ROUTER_KEY);
    const delegated = await client.callTool({ name: "delegate", arguments: { objective: "Summarize routers.", input: "Routers route tasks.", session_id: sessionId } });
    expect(delegated.isError).toBeFalsy();
    const text = (delegated.content as { type: string; text: string }[])[0]!.text;
    expect(text.length).toBeGreaterThan(0);
    expect(delegated.structuredContent).toMatchObject({ session_id: sessionId, status: "completed", result: text });

    const validated = await client.callTool({ name: "validate", arguments: { output: "A correct statement.", session_id: sessionId } });
    expect((validated.content as { text: string }[])[0]!.text).toMatch(/^VALID/);

    const completion = await client.callTool({ name: "completion", arguments: { prompt: "Hi", max_tokens: 4, session_id: sessionId } });
    expect((completion.content as { text: string }[])[0]!.text.split(" ")).toHaveLength(4);

    // Router errors come back as tool errors the model can read.
    const failed = await client.callTool({ name: "completion", arguments: { prompt: "Hi", session_id: 987654321 } });
    expect(failed.isError).toBe(true);
    expect((failed.content as { text: string }[])[0]!.text).toContain("session_not_found");
    await client.close();
  });

  it("is under the router key", async () => {
    await expect(connect(null)).rejects.toThrow();
    await expect(connect("wrong-key")).rejects.toThrow();
  });
});
