import { StreamableHTTPTransport } from "@hono/mcp";
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { requireRouterKey } from "../auth/bearer";
import type { AppEnv } from "../http/app-env";
import { jsonRpcErrorHandler } from "../http/json-rpc-errors";
import { openApiApp } from "../http/openapi";
import { mcpServer } from "../mcp/mcp-server";
import { callerOf } from "../http/caller-of";
import { z } from "zod";

/**
 * Streamable-HTTP MCP endpoint, stateless: each request gets a fresh server
 * and transport (nothing lives in isolate memory between requests), under
 * the router's bearer key.
 */
async function handleMcp(c: Context<AppEnv>) {
  const transport = new StreamableHTTPTransport();
  await mcpServer(c.env, callerOf(c)).connect(transport);
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
        responses: {
          200: { content: { "application/json": { schema: z.record(z.string(), z.unknown()) }, "text/event-stream": { schema: z.string() } }, description: "MCP response" },
        },
      }),
      async (c) => (await handleMcp(c)) ?? c.body(null, 204),
    );
  }
  return app;
})();
