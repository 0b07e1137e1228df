import { createRoute, z } from "@hono/zod-openapi";
import { requireAdminKey } from "../auth/bearer";
import { ApiError, validationError } from "../http/errors";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { SessionIdParamSchema } from "../schemas/common";
import { SessionConfigSchema, SessionCreateSchema, SessionSchema, SessionUpdateSchema, checkNodes, type Session } from "../schemas/session";
import type { Env } from "../env";
import { registryStub, sessionStub } from "../router/stubs";
import { sessionNotFound } from "../router/session-routes";

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
      const created = await sessionStub(c.env, sessionId).configure(sessionId, config, { create: true });
      if (!created) throw new ApiError(409, "session_exists", `session ${sessionId} already exists`);
      return c.json(await save(c.env, created), 201);
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
      const stub = sessionStub(c.env, sessionId);
      const current = await stub.getSession();
      if (!current) throw sessionNotFound(sessionId);
      const merged = SessionConfigSchema.superRefine(checkNodes).safeParse({ ...current, ...c.req.valid("json") });
      if (!merged.success) throw validationError(merged.error, "body");
      const updated = await stub.configure(sessionId, merged.data, { create: false });
      if (!updated) throw sessionNotFound(sessionId);
      return c.json(await save(c.env, updated), 200);
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
      const stub = sessionStub(c.env, sessionId);
      const current = await stub.getSession();
      if (!current) throw sessionNotFound(sessionId);
      const updated = await stub.configure(sessionId, SessionConfigSchema.parse({ ...current, active: false }), { create: false });
      return c.json(await save(c.env, updated!), 200);
    },
  );
