import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { loadConfig } from "../../domain/config/config";
import type { Env } from "../env";
import { ApiError } from "../../domain/errors";
import { runDelegate } from "../work/delegate";
import { runFactcheck } from "../work/factcheck";
import { submitWork } from "../work/submit-work";
import { TierSchema } from "../../domain/work/tiers";
import { runValidate } from "../work/validate";
import type { Caller } from "../../domain/sessions/caller";
import { resolveSessionId } from "../sessions/session-id";
import { ROUTER_VERSION } from "../../domain/version";

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

/** The router's work as MCP tools: completion, delegate, validate, factcheck, for one caller (the request's router key). */
export function mcpServer(env: Env, caller: Caller): McpServer {
  const config = loadConfig(env);
  const session = (id: number | undefined) => resolveSessionId(undefined, id, config.defaultSessionId);
  const server = new McpServer({ name: config.routerName, version: ROUTER_VERSION });

  server.registerTool(
    "completion",
    {
      title: "Completion",
      description: "Runs a prompt on a session's redundant miners and returns the agreed completion.",
      inputSchema: {
        prompt: z.string().min(1).max(100_000),
        session_id: z.number().int().min(0).optional(),
        max_tokens: z.number().int().min(1).max(32_768).optional(),
        temperature: z.number().min(0).max(2).optional(),
      },
    },
    (args) =>
      answer(async () => {
        const { completion: c } = await submitWork(env, {
          sessionId: session(args.session_id),
          caller,
          flow: "mcp-completion",
          prompt: args.prompt,
          maxTokens: args.max_tokens,
          temperature: args.temperature,
          policy: {},
        });
        return { text: c.choices[0]?.text ?? "", result: c };
      }),
  );
  server.registerTool(
    "delegate",
    {
      title: "Delegate",
      description: "Delegates a task (an objective, optionally with input text) and returns the result with its consensus record.",
      inputSchema: {
        objective: z.string().min(1).max(10_000),
        input: z.string().max(100_000).optional(),
        session_id: z.number().int().min(0).optional(),
        tier: TierSchema.optional(),
        redundancy: z.number().int().min(1).max(5).optional(),
      },
    },
    (args) =>
      answer(async () => {
        const { result: r } = await runDelegate(
          env,
          config,
          session(args.session_id),
          {
            objective: args.objective,
            ...(args.input ? { input: { kind: "text" as const, payload: args.input } } : {}),
            fetch_web: false,
            policy: { ...(args.tier ? { tier: args.tier } : {}), ...(args.redundancy ? { redundancy: args.redundancy } : {}) },
            model_policy: {},
          },
          "mcp-delegate",
          caller,
        );
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
        const { result: v } = await runValidate(
          env,
          session(args.session_id),
          {
            claim: { type: args.type, description: args.description, output: args.output },
            policy: { rules: args.rules, ...(args.redundancy ? { redundancy: args.redundancy } : {}) },
            model_policy: {},
          },
          "mcp-validate",
          caller,
        );
        return { text: `${v.verdict} (confidence ${v.confidence}): ${v.reasons.join(" ")}`, result: v };
      }),
  );
  server.registerTool(
    "factcheck",
    {
      title: "Factcheck",
      description: "Fact-checks a statement (standard, or realtime with search evidence when configured).",
      inputSchema: {
        statement: z.string().min(1).max(10_000),
        type: z.string().min(1).max(128).default("statement"),
        mode: z.enum(["standard", "realtime"]).default("standard"),
        session_id: z.number().int().min(0).optional(),
      },
    },
    (args) =>
      answer(async () => {
        const { result: v } = await runFactcheck(
          env,
          config,
          {
            ...(args.session_id !== undefined ? { session_id: args.session_id } : {}),
            mode: args.mode,
            claim: { type: args.type, statement: args.statement },
            policy: { task_redundancy: 1 },
            model_policy: {},
          },
          "mcp-factcheck",
          caller,
        );
        return { text: `${v.verdict} (confidence ${v.confidence}): ${v.reasons.join(" ")}`, result: v };
      }),
  );
  return server;
}
