import { createRoute, z } from "@hono/zod-openapi";
import { requireRouterKey } from "../auth/bearer";
import { loadConfig } from "../config/config";
import { requireCustomerKey } from "../gateway/customer-auth";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { json } from "../http/responses";
import { SSE_HEADERS } from "../http/sse";
import {
  NeuroShardErrorSchema,
  NeuroShardInferenceRequestSchema,
  NeuroShardInferenceResponseSchema,
  NeuroShardMetricsSchema,
  NeuroShardNodeHealthSchema,
  NeuroShardPeersSchema,
  NeuroShardStatusSchema,
} from "../schemas/neuroshard";
import { registryStub } from "../stubs";
import { neuroShardErrorHandler } from "./errors";
import { nodeInference, nodeInferenceStream } from "./inference";
import { nodeHealth, nodeMetrics, nodePeers, nodeStatus } from "./node-report";
import { prometheusText } from "./prometheus";

/** The NeuroShard node HTTP API (shared/seeds/003) under its own base, its paths colliding with the router's. */
export const NEUROSHARD_BASE = "/neuroshard/api/v1";

const tags = ["neuroshard"];
const nodeError = (description: string) => ({ content: { "application/json": { schema: NeuroShardErrorSchema } }, description });
const routerKey = { security: bearerSecurity, middleware: [requireRouterKey()] };
/** The key is checked before the body is read. */
const customerKey = { security: [{ customerKey: [] }], middleware: [requireCustomerKey()] };

export const neuroShardRoutes = openApiApp()
  .onError(neuroShardErrorHandler)
  .openapi(
    createRoute({
      method: "get",
      path: `${NEUROSHARD_BASE}/status`,
      tags,
      summary: "This router as a NeuroShard node: id, version, uptime, role, peers",
      responses: { 200: json(NeuroShardStatusSchema, "Node status") },
    }),
    async (c) => c.json(await nodeStatus(c.env, loadConfig(c.env).routerName), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: `${NEUROSHARD_BASE}/health`,
      tags,
      summary: "Health: miners (at least one not benched) and storage",
      responses: { 200: json(NeuroShardNodeHealthSchema, "Healthy"), 503: json(NeuroShardNodeHealthSchema, "A check failed") },
    }),
    async (c) => {
      const health = await nodeHealth(c.env);
      return health.healthy ? c.json(health, 200) : c.json(health, 503);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: `${NEUROSHARD_BASE}/metrics`,
      tags,
      summary: "Inference counters summed over every session's tasks (null: not measured here)",
      responses: { 200: json(NeuroShardMetricsSchema, "Metrics") },
    }),
    async (c) => c.json(await nodeMetrics(c.env), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/neuroshard/metrics",
      tags,
      summary: "The same figures as Prometheus text",
      responses: { 200: { content: { "text/plain": { schema: z.string() } }, description: "Prometheus exposition format 0.0.4" } },
    }),
    async (c) => {
      const [status, metrics, miners] = await Promise.all([nodeStatus(c.env, loadConfig(c.env).routerName), nodeMetrics(c.env), registryStub(c.env).listMiners()]);
      return c.text(prometheusText(status, metrics, miners), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: `${NEUROSHARD_BASE}/peers`,
      tags,
      summary: "The miners this node fronts: id, host, role, layers, latency (never credentials)",
      ...routerKey,
      responses: { 200: json(NeuroShardPeersSchema, "Peers"), 401: nodeError("Missing or invalid key") },
    }),
    async (c) => c.json(await nodePeers(c.env), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: `${NEUROSHARD_BASE}/inference`,
      tags,
      summary: "Inference on the NEUROSHARD_MODEL gateway alias: customer key, billed like the gateway",
      ...customerKey,
      request: { body: { content: { "application/json": { schema: NeuroShardInferenceRequestSchema } }, required: true } },
      responses: {
        200: {
          content: {
            "application/json": { schema: NeuroShardInferenceResponseSchema },
            "text/event-stream": { schema: z.string().openapi({ description: '`data: {"token", "index"}` events, then `data: {"token": "[DONE]", "finish_reason", "usage"}`' }) },
          },
          description: "The agreed answer (with `stream`, its tokens as server-sent events)",
        },
        400: nodeError("INVALID_REQUEST: `details.field` names the field"),
        401: nodeError("UNAUTHORIZED"),
        402: nodeError("INSUFFICIENT_BALANCE (`required`, `available`) or SPEND_LIMIT_REACHED"),
        429: nodeError("RATE_LIMITED (`retry_after`, and the Retry-After header)"),
        502: nodeError("The miners failed"),
        503: nodeError("No miner available"),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      if (body.stream) {
        const live = await nodeInferenceStream(c, body);
        return new Response(live.stream, { headers: { ...SSE_HEADERS, "x-request-id": live.requestId } });
      }
      const { answer, requestId } = await nodeInference(c, body);
      return c.json(answer, 200, { "x-request-id": requestId });
    },
  );
