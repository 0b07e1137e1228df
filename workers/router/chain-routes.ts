import { createRoute, z } from "@hono/zod-openapi";
import { requireRouterKey } from "../auth/bearer";
import { chainStatus, configuredChainIndex } from "../chain/chain-access";
import { ApiError } from "../../domain/errors";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { ChainEventSchema, ChainSessionSchema, ChainStatusSchema, ChainTaskDetailSchema, ChainTaskSchema, UndecodableLogSchema } from "../../domain/schemas/chain";
import { EvmAddressSchema, SessionIdParamSchema, TaskIdParamSchema } from "../../domain/schemas/common";

const authed = { security: bearerSecurity, middleware: [requireRouterKey()], tags: ["chain"] };

const BLOCK_MESSAGE = "must be a block number (a non-negative integer)";
const block = z
  .string()
  .regex(/^\d{1,15}$/, BLOCK_MESSAGE)
  .transform(Number);
const id = z
  .string()
  .regex(/^\d{1,15}$/, "must be a non-negative integer")
  .transform(Number);
const limit = z.coerce.number({ error: "must be an integer from 1 to 500" }).int("must be an integer from 1 to 500").min(1).max(500).default(100);

const SessionsQuerySchema = z.object({
  owner: EvmAddressSchema.optional().openapi({ description: "only sessions of this owner (the seed's getSessions(address))" }),
  after: id.optional().openapi({ description: "only sessions with a larger id (paging)" }),
  limit,
});

const TasksQuerySchema = z.object({
  session_id: id.optional(),
  status: z.enum(["queued", "assigned", "precommit_ended", "commit_ended", "ended"]).optional(),
  after: z
    .string()
    .regex(/^\d{1,15}:\d{1,15}$/, "must be {session_id}:{task_id}")
    .optional()
    .openapi({ description: "paging: the `next` of the previous page" }),
  limit,
});

const EventsQuerySchema = z
  .object({
    from_block: block.optional(),
    to_block: block.optional(),
    event: z
      .string()
      .regex(/^[A-Za-z]{1,64}$/, "must be an event name")
      .optional(),
    contract: z.enum(["SessionV2", "SessionQueueV2"]).optional(),
    session_id: id.optional(),
    task_id: id.optional(),
    after: z
      .string()
      .regex(/^\d{1,15}:\d{1,15}$/, "must be {block}:{log_index}")
      .optional()
      .openapi({ description: "paging: the `next` of the previous page" }),
    limit,
  })
  .refine((q) => q.from_block === undefined || q.to_block === undefined || q.from_block <= q.to_block, { message: "must not be below from_block", path: ["to_block"] });

const pair = (text: string | undefined) => {
  if (!text) return undefined;
  const [x, y] = text.split(":").map(Number) as [number, number];
  return [x, y] as const;
};

const notFound = (what: string) => new ApiError(404, "not_found", `${what} is not in the chain index`);

export const chainRoutes = openApiApp()
  .openapi(
    createRoute({
      method: "get",
      path: "/api/v1/chain/status",
      summary: "The chain index: configuration, cursor, head, lag, reorgs, last error",
      ...authed,
      responses: { 200: json(ChainStatusSchema, "Status (an unconfigured or misconfigured chain is a status too)"), 401: errorResponses[401] },
    }),
    async (c) => c.json(await chainStatus(c.env), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/api/v1/chain/sessions",
      summary: "On-chain sessions (SessionV2), mirrored from its events",
      ...authed,
      request: { query: SessionsQuerySchema },
      responses: {
        200: json(z.object({ sessions: z.array(ChainSessionSchema), next: z.number().int().nullable() }), "Sessions by id"),
        400: errorResponses[400],
        401: errorResponses[401],
        503: json(z.object({ error: z.object({ code: z.string(), message: z.string() }) }), "No chain configured"),
      },
    }),
    async (c) => {
      const { owner, after, limit } = c.req.valid("query");
      const sessions = await configuredChainIndex(c.env).index.sessions({ owner, after, limit });
      return c.json({ sessions, next: sessions.length === limit ? (sessions.at(-1)?.session_id ?? null) : null }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/api/v1/chain/sessions/{sessionId}",
      summary: "One on-chain session",
      ...authed,
      request: { params: SessionIdParamSchema },
      responses: { 200: json(ChainSessionSchema, "The session"), 400: errorResponses[400], 401: errorResponses[401], 404: errorResponses[404] },
    }),
    async (c) => {
      const { sessionId } = c.req.valid("param");
      const session = await configuredChainIndex(c.env).index.session(sessionId);
      if (!session) throw notFound(`session ${sessionId}`);
      return c.json(session, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/api/v1/chain/tasks",
      summary: "On-chain tasks (SessionQueueV2) with their queue state and results",
      ...authed,
      request: { query: TasksQuerySchema },
      responses: { 200: json(z.object({ tasks: z.array(ChainTaskSchema), next: z.string().nullable() }), "Tasks"), 400: errorResponses[400], 401: errorResponses[401] },
    }),
    async (c) => {
      const { session_id, status, after, limit } = c.req.valid("query");
      const from = pair(after);
      const tasks = await configuredChainIndex(c.env).index.tasks({ sessionId: session_id, status, limit, ...(from ? { after: { sessionId: from[0], taskId: from[1] } } : {}) });
      const last = tasks.at(-1);
      return c.json({ tasks, next: tasks.length === limit && last ? `${last.session_id}:${last.task_id}` : null }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/api/v1/chain/tasks/{sessionId}/{taskId}",
      summary: "One on-chain task with its queue history",
      ...authed,
      request: { params: TaskIdParamSchema },
      responses: { 200: json(ChainTaskDetailSchema, "The task"), 400: errorResponses[400], 401: errorResponses[401], 404: errorResponses[404] },
    }),
    async (c) => {
      const { sessionId, taskId } = c.req.valid("param");
      const task = await configuredChainIndex(c.env).index.task(sessionId, taskId);
      if (!task) throw notFound(`task ${taskId} of session ${sessionId}`);
      return c.json(task, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/api/v1/chain/events",
      summary: "Indexed events of both contracts, in chain order",
      ...authed,
      request: { query: EventsQuerySchema },
      responses: { 200: json(z.object({ events: z.array(ChainEventSchema), next: z.string().nullable() }), "Events"), 400: errorResponses[400], 401: errorResponses[401] },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const from = pair(q.after);
      const events = await configuredChainIndex(c.env).index.events({
        fromBlock: q.from_block,
        toBlock: q.to_block,
        event: q.event,
        contract: q.contract,
        sessionId: q.session_id,
        taskId: q.task_id,
        limit: q.limit,
        ...(from ? { after: { block: from[0], log: from[1] } } : {}),
      });
      const last = events.at(-1);
      return c.json({ events, next: events.length === q.limit && last ? `${last.block_number}:${last.log_index}` : null }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/api/v1/chain/undecodable-logs",
      summary: "Logs of the watched contracts that did not decode, with the error",
      ...authed,
      request: { query: z.object({ limit }) },
      responses: { 200: json(z.object({ logs: z.array(UndecodableLogSchema) }), "Logs"), 400: errorResponses[400], 401: errorResponses[401] },
    }),
    async (c) => c.json({ logs: await configuredChainIndex(c.env).index.undecodable(c.req.valid("query").limit) }, 200),
  );
