import { createRoute, z } from "@hono/zod-openapi";
import { requireRouterKey } from "../auth/bearer";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { SessionIdParamSchema, TaskIdParamSchema } from "../schemas/common";
import { SessionSchema } from "../schemas/session";
import { sessionClient } from "../sessions/session-client";
import { registryStub } from "../stubs";

const SessionListSchema = z
  .object({
    sessions: z.array(z.object({ id: z.number().int(), name: z.string(), model: z.string(), redundancy: z.number().int(), mode: z.string(), active: z.boolean() })),
  })
  .openapi("SessionList");

const TaskSummarySchema = z
  .object({
    task_id: z.number().int(),
    session_id: z.number().int().nullable(),
    request_id: z.string().nullable(),
    caller: z
      .string()
      .nullable()
      .openapi({ description: "the namespace the request id belongs to: kind and a hash of the caller (router key, customer, x402 payer, trial client)" }),
    status: z.string(),
    kind: z.string(),
    redundancy: z.number().int(),
    created_at: z.string().nullable(),
    updated_at: z.string().nullable(),
    precommit_deadline_at: z.string().nullable(),
    deadline_at: z.string().nullable(),
  })
  .openapi("TaskSummary");

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
    async (c) => c.json({ sessions: await registryStub(c.env).listSessions({ includeInactive: false }) }, 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/api/v1/sessions/{sessionId}",
      tags: ["sessions"],
      summary: "One session",
      ...authed,
      request: { params: SessionIdParamSchema },
      responses: { 200: json(SessionSchema, "The session"), 400: errorResponses[400], 401: errorResponses[401], 404: errorResponses[404] },
    }),
    async (c) => {
      const { sessionId } = c.req.valid("param");
      return c.json(await sessionClient(c.env, sessionId).get(), 200);
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
      const tasks = await sessionClient(c.env, sessionId).listTasks({ limit, before });
      const last = tasks.at(-1);
      return c.json({ session_id: sessionId, tasks, next_before: tasks.length === limit && last ? last.task_id : null }, 200);
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
        200: json(
          TaskSummarySchema.extend({ assignments: z.array(z.record(z.string(), z.unknown())), events: z.array(z.record(z.string(), z.unknown())) }).passthrough(),
          "The task",
        ),
        400: errorResponses[400],
        401: errorResponses[401],
        404: errorResponses[404],
      },
    }),
    async (c) => {
      const { sessionId, taskId } = c.req.valid("param");
      return c.json(await sessionClient(c.env, sessionId).getTask(taskId), 200);
    },
  );
