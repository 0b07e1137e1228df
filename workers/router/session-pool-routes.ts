import { createRoute, z } from "@hono/zod-openapi";
import { requireAdminKey } from "../auth/bearer";
import { loadConfig } from "../../domain/config/config";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { sessionClient } from "../../durable-objects/session/session-client";

export const sessionPoolRoutes = openApiApp().openapi(
  createRoute({
    method: "get",
    path: "/api/v1/admin/session-pools",
    tags: ["admin"],
    summary: "The v3 replica-tier session pools (V3_SESSION_POOLS) and their sessions",
    security: bearerSecurity,
    middleware: [requireAdminKey()],
    responses: {
      200: json(
        z.object({ pools: z.array(z.object({ replicas: z.number().int(), session_id: z.number().int(), session_exists: z.boolean(), redundancy: z.number().int().nullable() })) }),
        "Pools",
      ),
      401: errorResponses[401],
    },
  }),
  async (c) => {
    const pools = await Promise.all(
      Object.entries(loadConfig(c.env).v3Pools).flatMap(([replicas, sessionId]) =>
        sessionId === undefined
          ? []
          : [
              sessionClient(c.env, sessionId)
                .find()
                .then((session) => ({ replicas: Number(replicas), session_id: sessionId, session_exists: session !== null, redundancy: session?.redundancy ?? null })),
            ],
      ),
    );
    return c.json({ pools: pools.sort((a, b) => a.replicas - b.replicas) }, 200);
  },
);
