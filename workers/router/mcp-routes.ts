import { StreamableHTTPTransport } from "@hono/mcp";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import { requireRouterKey } from "../auth/bearer";
import { loadConfig } from "../config/config";
import type { Env } from "../env";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/errors";
import { jsonRpcErrorHandler } from "../http/json-rpc-errors";
import { openApiApp } from "../http/openapi";
import { runDelegate } from "../work/delegate";
import { runFactcheck } from "../work/factcheck";
import { submitWork } from "../work/submit-work";
import { TierSchema } from "../work/tiers";
import { runValidate } from "../work/validate";
import { resolveSessionId } from "../sessions/session-id";
import { ROUTER_VERSION } from "./meta-routes";

type ToolResult = { content: { type: "text"; text: string }[]; structuredContent?: Record<string, unknown>; isError?: boolean };

/** A tool's answer: the text for the model, the whole result as structured content; errors as tool errors, not protocol errors. */
async function answer(run: () => Promise<{ text: string; result: Record<string, unknown> }>): Promise<ToolResult> {
  try {
    const { text, result } = await run();
    return { content: [{ type: "text", text }], structuredContent: result };
  } catch (err) {
    const message = err instanceof ApiError ? `${err.code}: ${err.message}` : "the tool failed";
    if (!(err instanceof ApiError)) console.error("mcp tool failed", err);
    return { content: [{ type: "text", text: message }], isError: true };
  }
}

/** The router's work as MCP tools: completion, delegate, validate, factcheck. */
export function mcpServer(env: Env): McpServer {
  const config = loadConfig(env);
  const session = (id: number | undefined) => resolveSessionId(undefined, id, config.defaultSessionId);
  const server = new McpServer({ name: config.routerName, version: ROUTER_VERSION });

  server.registerTool(
    "completion",
    {
      title: "Completion",
      description: "Runs a prompt on a session's redundant miners and returns the agreed completion.",
      inputSchema: { prompt: z.string().min(1).max(100_000), session_id: z.number().int().min(0).optional(), max_tokens: z.number().int().min(1).max(32_768).optional(), temperature: z.number().min(0).max(2).optional() },
    },
    (args) =>
      answer(async () => {
        const c = await submitWork(env, { sessionId: session(args.session_id), flow: "mcp-completion", prompt: args.prompt, maxTokens: args.max_tokens, temperature: args.temperature, policy: {} });
        return { text: c.choices[0]?.text ?? "", result: c };
      }),
  );
  server.registerTool(
    "delegate",
    {
      title: "Delegate",
      description: "Delegates a task (an objective, optionally with input text) and returns the result with its consensus record.",
      inputSchema: { objective: z.string().min(1).max(10_000), input: z.string().max(100_000).optional(), session_id: z.number().int().min(0).optional(), tier: TierSchema.optional(), redundancy: z.number().int().min(1).max(5).optional() },
    },
    (args) =>
      answer(async () => {
        const r = await runDelegate(env, config, session(args.session_id), {
          objective: args.objective,
          ...(args.input ? { input: { kind: "text" as const, payload: args.input } } : {}),
          fetch_web: false,
          policy: { ...(args.tier ? { tier: args.tier } : {}), ...(args.redundancy ? { redundancy: args.redundancy } : {}) },
          model_policy: {},
        }, "mcp-delegate");
        return { text: r.result, result: r };
      }),
  );
  server.registerTool(
    "validate",
    {
      title: "Validate",
      description: "Checks a claim (an output) against rules; the verdict is VALID, INVALID, RETRY or NEEDS_SPEC.",
      inputSchema: {
        output: z.string().min(1).max(100_000),
        type: z.string().min(1).max(128).default("output"),
        description: z.string().max(10_000).default(""),
        rules: z.array(z.string().min(1).max(1000)).max(50).default([]),
        session_id: z.number().int().min(0).optional(),
        redundancy: z.number().int().min(1).max(5).optional(),
      },
    },
    (args) =>
      answer(async () => {
        const v = await runValidate(env, session(args.session_id), {
          claim: { type: args.type, description: args.description, output: args.output },
          policy: { rules: args.rules, ...(args.redundancy ? { redundancy: args.redundancy } : {}) },
          model_policy: {},
        }, "mcp-validate");
        return { text: `${v.verdict} (confidence ${v.confidence}): ${v.reasons.join(" ")}`, result: v };
      }),
  );
  server.registerTool(
    "factcheck",
    {
      title: "Factcheck",
      description: "Fact-checks a statement (standard, or realtime with search evidence when configured).",
      inputSchema: { statement: z.string().min(1).max(10_000), type: z.string().min(1).max(128).default("statement"), mode: z.enum(["standard", "realtime"]).default("standard"), session_id: z.number().int().min(0).optional() },
    },
    (args) =>
      answer(async () => {
        const v = await runFactcheck(env, config, {
          ...(args.session_id !== undefined ? { session_id: args.session_id } : {}),
          mode: args.mode,
          claim: { type: args.type, statement: args.statement },
          policy: { task_redundancy: 1 },
          model_policy: {},
        }, "mcp-factcheck");
        return { text: `${v.verdict} (confidence ${v.confidence}): ${v.reasons.join(" ")}`, result: v };
      }),
  );
  return server;
}

/**
 * Streamable-HTTP MCP endpoint, stateless: each request gets a fresh server
 * and transport (nothing lives in isolate memory between requests), under
 * the router's bearer key.
 */
async function handleMcp(c: Context<AppEnv>) {
  const transport = new StreamableHTTPTransport();
  await mcpServer(c.env).connect(transport);
  return transport.handleRequest(c);
}

export const mcpRoutes = (() => {
  const app = openApiApp().onError(jsonRpcErrorHandler);
  for (const method of ["post", "get", "delete"] as const) {
    app.openapi(
      createRoute({
        method,
        path: "/mcp",
        tags: ["mcp"],
        summary: "MCP over streamable HTTP (stateless): tools completion, delegate, validate, factcheck",
        description: "Body (POST): a JSON-RPC message of the Model Context Protocol; validated by the MCP SDK.",
        security: [{ bearer: [] }],
        middleware: [requireRouterKey()],
        responses: { 200: { content: { "application/json": { schema: z.record(z.string(), z.unknown()) }, "text/event-stream": { schema: z.string() } }, description: "MCP response" } },
      }),
      async (c) => (await handleMcp(c)) ?? c.body(null, 204),
    );
  }
  return app;
})();
