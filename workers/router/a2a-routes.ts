import { A2A_VERSION_HEADER } from "@a2a-js/sdk";
import { LegacyJsonRpcTransportHandler } from "@a2a-js/sdk/compat/v0_3/server";
import { isLegacyJsonRpcMethod } from "@a2a-js/sdk/compat/v0_3";
import { DefaultRequestHandler, JsonRpcTransportHandler, UnauthenticatedUser, defaultServerCallContextBuilder, validateVersion } from "@a2a-js/sdk/server";
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { agentCard, agentCardJson } from "../a2a/agent-card";
import { DelegateExecutor } from "../a2a/delegate-executor";
import { DurableTaskStore } from "../a2a/task-store";
import { requireRouterKey } from "../auth/bearer";
import { loadConfig } from "../config/config";
import { sha256Hex } from "../crypto/sha256";
import type { AppEnv } from "../http/app-env";
import { jsonRpcErrorHandler } from "../http/json-rpc-errors";
import { openApiApp } from "../http/openapi";

const CARD_PATHS = ["/.well-known/agent.json", "/.well-known/agent-card.json", "/api/v1/a2a/agent.json", "/api/v1/a2a/discovery"] as const;

const serveCard = (c: Context<AppEnv>) => c.json(agentCardJson(new URL(c.req.url).origin, loadConfig(c.env).routerName), 200);

/**
 * The A2A JSON-RPC endpoint, through the SDK's own request handler and
 * transports: v1.0 methods (SendMessage, GetTask, CancelTask) and the v0.3
 * names (message/send, tasks/get, tasks/cancel). Tasks are kept per caller
 * key in a Durable Object, so any isolate can read or cancel them.
 */
async function jsonRpc(c: Context<AppEnv>) {
  const config = loadConfig(c.env);
  const parsed = JsonRpcSchema.safeParse(await c.req.json().catch(() => null));
  if (!parsed.success) return c.json({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } }, 200);
  const body = parsed.data;
  const legacy = isLegacyJsonRpcMethod(body.method);
  const card = agentCard(new URL(c.req.url).origin, config.routerName);
  const token = /^Bearer\s+(\S+)/i.exec(c.req.header("Authorization") ?? "")?.[1] ?? "";
  const owner = (await sha256Hex(token)).slice(0, 32);
  const handler = new DefaultRequestHandler(card, new DurableTaskStore(c.env, owner), new DelegateExecutor(c.env, config));
  const context = defaultServerCallContextBuilder({
    extensions: [],
    user: new UnauthenticatedUser(),
    headers: Object.fromEntries(c.req.raw.headers),
    requestedVersion: c.req.header(A2A_VERSION_HEADER) ?? (legacy ? "0.3" : "1.0"),
  });
  const mapError = legacy ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError : JsonRpcTransportHandler.mapToJSONRPCError;
  try {
    validateVersion(context.requestedVersion, card, "JSONRPC");
    const transport = legacy ? new LegacyJsonRpcTransportHandler(handler) : new JsonRpcTransportHandler(handler);
    const result = await transport.handle(body, context);
    if (!(Symbol.asyncIterator in result)) return c.json(result, 200);
    // Streaming is not offered (capabilities.streaming is false): answer with the last event.
    let last: (typeof result extends AsyncGenerator<infer E> ? E : never) | null = null;
    for await (const event of result) last = event;
    if (last === null) return c.json({ jsonrpc: "2.0", id: body.id ?? null, error: { code: -32603, message: "the task produced no event" } }, 200);
    return c.json(last, 200);
  } catch (err) {
    return c.json({ jsonrpc: "2.0", id: body.id ?? null, error: mapError(err) }, 200);
  }
}

const CardSchema = z.record(z.string(), z.unknown()).openapi("AgentCard", { description: "A2A Agent Card (the A2A schema's JSON form)" });
const JsonRpcSchema = z
  .object({ jsonrpc: z.literal("2.0"), id: z.union([z.string(), z.number(), z.null()]).optional(), method: z.string(), params: z.unknown().optional() })
  .passthrough()
  .openapi("A2AJsonRpcRequest");

export const a2aRoutes = (() => {
  const app = openApiApp().onError(jsonRpcErrorHandler);
  for (const path of CARD_PATHS) {
    app.openapi(
      createRoute({ method: "get", path, tags: ["a2a"], summary: "The A2A Agent Card", responses: { 200: { content: { "application/json": { schema: CardSchema } }, description: "Agent Card" } } }),
      serveCard,
    );
  }
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/a2a",
      tags: ["a2a"],
      summary: "A2A JSON-RPC: SendMessage/message/send, GetTask/tasks/get, CancelTask/tasks/cancel",
      security: [{ bearer: [] }],
      middleware: [requireRouterKey()],
      // No request schema here: the SDK validates JSON-RPC itself and answers JSON-RPC errors.
      description: "Body: a JSON-RPC 2.0 request (`jsonrpc`, `id`, `method`, `params`) as the A2A specification defines it.",
      responses: { 200: { content: { "application/json": { schema: z.record(z.string(), z.unknown()) } }, description: "JSON-RPC response (errors too, as JSON-RPC errors)" } },
    }),
    jsonRpc,
  );
  return app;
})();
