/**
 * The miner node's HTTP server: every route behind the router's credential
 * (`Authorization: Bearer <credential>`, compared in constant time), then the
 * OpenAI-compatible routes or the NeuroShard node API.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { mountNeuroShard } from "./neuroshard-routes.ts";
import { mountOpenAi, type NodeContext } from "./openai-routes.ts";
import { bearerMatches } from "./secrets.ts";

export type NodeServerOptions = NodeContext & { credential: string; protocol: "openai" | "neuroshard"; nodeId: string };

export function createMinerNodeApp(o: NodeServerOptions): Hono {
  const app = new Hono();
  app.use("*", async (c, next) => {
    if (!bearerMatches(c.req.header("authorization"), o.credential)) {
      return o.protocol === "neuroshard"
        ? c.json({ error: { code: "UNAUTHORIZED", message: "Invalid or expired API token" } }, 401)
        : c.json({ error: { message: "invalid or missing credential", type: "invalid_request_error", code: "invalid_api_key" } }, 401);
    }
    await next();
  });
  if (o.protocol === "neuroshard") mountNeuroShard(app, o);
  else mountOpenAi(app, o);
  return app;
}

export type RunningServer = { url: string; port: number; close(): Promise<void> };

export function listen(app: Hono, host: string, port: number): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: host }, (info: AddressInfo) => {
      const shown = info.family === "IPv6" ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${shown}:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            const http = server as Server;
            http.close(() => done());
            http.closeAllConnections?.();
          }),
      });
    }) as Server;
    server.once("error", reject);
  });
}
