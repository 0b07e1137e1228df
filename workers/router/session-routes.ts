import { createRoute, z } from "@hono/zod-openapi";
import { requireRouterKey } from "../auth/bearer";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { SessionIdParamSchema, TaskIdParamSchema } from "../../domain/schemas/common";
import { SessionSchema } from "../../domain/schemas/session";
import { TaskDetailSchema, TaskSummarySchema } from "../../domain/schemas/task";
import { sessionClient } from "../../durable-objects/session/session-client";
import { detailFor, summaryFor, taskViewerOf } from "../sessions/task-viewer";
import { registryStub } from "../../domain/objects/stubs";
import { chainSessionsForListing, configuredChainIndex } from "../chain/chain-access";
import { ApiError } from "../../domain/errors";
import { ChainSessionSchema } from "../../domain/schemas/chain";

const EdgeSessionSummarySchema = z.object({
  source: z.literal("edge"),
  id: z.number().int(),
  name: z.string(),
  model: z.string(),
  redundancy: z.number().int(),
  mode: z.string(),
  active: z.boolean(),
});

/** Edge sessions (`source: "edge"`, this router's) and on-chain ones (`source: "chain"`, SessionV2's, mirrored by the chain index; their ids are the chain's own). */
const SessionListSchema = z
  .object({
    sessions: z.array(z.discriminatedUnion("source", [EdgeSessionSummarySchema, ChainSessionSchema])),
  })
  .openapi("SessionList");

/** On-chain sessions listed beside the edge ones, at most this many. */
const CHAIN_SESSIONS_LISTED = 500;

const SessionSourceQuerySchema = z.object({
  source: z.enum(["edge", "chain"]).default("edge").openapi({ description: "chain: the on-chain SessionV2 session of that id, from the chain index" }),
});

const TaskListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.coerce.number().int().min(0).optional().openapi({ description: "only tasks with a smaller id (paging)" }),
});

const authed = { security: bearerSecurity, middleware: [requireRouterKey()] };

export const sessionRoutes = openApiApp()
  .openapi(
    createRoute({
      method: "get",
      path: "/api/v1/sessions",
      tags: ["sessions"],
      summary: "Lists active sessions",
      ...authed,
      responses: { 200: json(SessionListSchema, "Active sessions"), 401: errorResponses[401] },
    }),
    async (c) => {
      const [edge, chain] = await Promise.all([registryStub(c.env).listSessions({ includeInactive: false }), chainSessionsForListing(c.env, CHAIN_SESSIONS_LISTED)]);
      const sessions = [...edge.map((s) => ({ source: "edge" as const, ...s })), ...chain.filter((s) => s.active)];
      return c.json({ sessions }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/api/v1/sessions/{sessionId}",
      tags: ["sessions"],
      summary: "One session (`?source=chain`: the on-chain one)",
      ...authed,
      request: { params: SessionIdParamSchema, query: SessionSourceQuerySchema },
      responses: {
        200: json(z.union([SessionSchema.extend({ source: z.literal("edge") }), ChainSessionSchema]), "The session"),
        400: errorResponses[400],
        401: errorResponses[401],
        404: errorResponses[404],
      },
    }),
    async (c) => {
      const { sessionId } = c.req.valid("param");
      if (c.req.valid("query").source === "chain") {
        const session = await configuredChainIndex(c.env).index.session(sessionId);
        if (!session) throw new ApiError(404, "not_found", `session ${sessionId} is not in the chain index`);
        return c.json(session, 200);
      }
      return c.json({ source: "edge" as const, ...(await sessionClient(c.env, sessionId).get()) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/api/v1/tasks/{sessionId}",
      tags: ["tasks"],
      summary: "Tasks of a session, newest first",
      ...authed,
      request: { params: SessionIdParamSchema, query: TaskListQuerySchema },
      responses: {
        200: json(z.object({ session_id: z.number().int(), tasks: z.array(TaskSummarySchema), next_before: z.number().int().nullable() }), "Tasks"),
        400: errorResponses[400],
        401: errorResponses[401],
        404: errorResponses[404],
      },
    }),
    async (c) => {
      const { sessionId } = c.req.valid("param");
      const { limit, before } = c.req.valid("query");
      const [viewer, tasks] = await Promise.all([taskViewerOf(c), sessionClient(c.env, sessionId).listTasks({ limit, before })]);
      const last = tasks.at(-1);
      return c.json({ session_id: sessionId, tasks: tasks.map((t) => summaryFor(viewer, t)), next_before: tasks.length === limit && last ? last.task_id : null }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/api/v1/tasks/{sessionId}/{taskId}",
      tags: ["tasks"],
      summary: "One task with its miner assignments and state history",
      ...authed,
      request: { params: TaskIdParamSchema },
      responses: {
        200: json(TaskDetailSchema, "The task"),
        400: errorResponses[400],
        401: errorResponses[401],
        404: errorResponses[404],
      },
    }),
    async (c) => {
      const { sessionId, taskId } = c.req.valid("param");
      const [viewer, task] = await Promise.all([taskViewerOf(c), sessionClient(c.env, sessionId).getTask(taskId)]);
      return c.json(detailFor(viewer, task), 200);
    },
  );
