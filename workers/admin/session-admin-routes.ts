import { createRoute, z } from "@hono/zod-openapi";
import { requireAdminKey } from "../auth/bearer";
import { fieldError, validationError } from "../../domain/errors";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { SessionIdParamSchema } from "../../domain/schemas/common";
import { SessionConfigSchema, SessionCreateSchema, SessionSchema, SessionUpdateSchema, checkNodes, type Session } from "../../domain/schemas/session";
import type { Env } from "../env";
import { sessionClient } from "../../durable-objects/session/session-client";
import { registryStub } from "../../domain/objects/stubs";

const admin = { security: bearerSecurity, middleware: [requireAdminKey()], tags: ["admin"] };

function summary(s: Session) {
  return { id: s.id, name: s.name, model: s.model, redundancy: s.redundancy, mode: s.mode, active: s.active };
}

async function save(env: Env, session: Session) {
  await registryStub(env).indexSession(summary(session));
  return session;
}

export const sessionAdminRoutes = openApiApp()
  .openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/sessions",
      summary: "Creates a session (SessionV2 fields plus the model)",
      ...admin,
      request: { body: { content: { "application/json": { schema: SessionCreateSchema } }, required: true } },
      responses: {
        201: json(SessionSchema, "Created"),
        400: errorResponses[400],
        401: errorResponses[401],
        409: json(z.object({ error: z.object({ code: z.string(), message: z.string() }) }), "Session id taken"),
      },
    }),
    async (c) => {
      const { id, ...fields } = c.req.valid("json");
      const sessionId = id ?? (await registryStub(c.env).nextSessionId());
      const config = SessionConfigSchema.parse({ ...fields, active: true });
      return c.json(await save(c.env, await sessionClient(c.env, sessionId).create(config)), 201);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/api/v1/admin/sessions/{sessionId}",
      summary: "Updates a session; `active: true` reactivates one",
      ...admin,
      request: { params: SessionIdParamSchema, body: { content: { "application/json": { schema: SessionUpdateSchema } }, required: true } },
      responses: { 200: json(SessionSchema, "Updated"), 400: errorResponses[400], 401: errorResponses[401], 404: errorResponses[404] },
    }),
    async (c) => {
      const { sessionId } = c.req.valid("param");
      const session = sessionClient(c.env, sessionId);
      const current = await session.get();
      const merged = SessionConfigSchema.superRefine(checkNodes).safeParse({ ...current, ...c.req.valid("json") });
      if (!merged.success) throw validationError(merged.error, "body");
      // Every shard keeps the tasks it holds (and the request ids it answers): a session only gains shards.
      if (merged.data.shards < current.shards) throw fieldError("shards", `must not be lower than the session's ${current.shards}`);
      return c.json(await save(c.env, await session.update(merged.data)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/api/v1/admin/sessions/{sessionId}",
      summary: "Deactivates a session (its tasks stay readable)",
      ...admin,
      request: { params: SessionIdParamSchema },
      responses: { 200: json(SessionSchema, "Deactivated"), 400: errorResponses[400], 401: errorResponses[401], 404: errorResponses[404] },
    }),
    async (c) => {
      const { sessionId } = c.req.valid("param");
      const session = sessionClient(c.env, sessionId);
      return c.json(await save(c.env, await session.update(SessionConfigSchema.parse({ ...(await session.get()), active: false }))), 200);
    },
  );
