import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { agentCardJson } from "../a2a/agent-card";
import { requireRouterKey } from "../auth/bearer";
import { loadConfig } from "../../domain/config/config";
import type { AppEnv } from "../http/app-env";
import { jsonRpcErrorHandler } from "../http/json-rpc-errors";
import { openApiApp } from "../http/openapi";
import { handleA2aJsonRpc } from "../a2a/json-rpc";

const CARD_PATHS = ["/.well-known/agent.json", "/.well-known/agent-card.json", "/api/v1/a2a/agent.json", "/api/v1/a2a/discovery"] as const;

const serveCard = (c: Context<AppEnv>) => c.json(agentCardJson(new URL(c.req.url).origin, loadConfig(c.env).routerName), 200);

const CardSchema = z.record(z.string(), z.unknown()).openapi("AgentCard", { description: "A2A Agent Card (the A2A schema's JSON form)" });

export const a2aRoutes = (() => {
  const app = openApiApp().onError(jsonRpcErrorHandler);
  for (const path of CARD_PATHS) {
    app.openapi(
      createRoute({
        method: "get",
        path,
        tags: ["a2a"],
        summary: "The A2A Agent Card",
        responses: { 200: { content: { "application/json": { schema: CardSchema } }, description: "Agent Card" } },
      }),
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
    handleA2aJsonRpc,
  );
  return app;
})();
