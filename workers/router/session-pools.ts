import { createRoute, z } from "@hono/zod-openapi";
import { requireAdminKey } from "../auth/bearer";
import { loadConfig, type RouterConfig } from "../config/config";
import { ApiError } from "../http/errors";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { sessionClient } from "../sessions/session-client";

/** The replica tier a v3 request asks for: `replicas`, else `consensus.replicas`, else 1. */
export function requestedReplicas(body: { replicas?: 1 | 3 | 5 | undefined; consensus?: { replicas?: 1 | 3 | 5 | undefined } | undefined }): 1 | 3 | 5 {
  return body.replicas ?? body.consensus?.replicas ?? 1;
}

/** The predefined session of a replica tier, or the `missing_v3_session_pool` error. */
export function poolSession(config: RouterConfig, replicas: 1 | 3 | 5): number {
  const id = config.v3Pools[`${replicas}`];
  if (id === undefined) {
    throw new ApiError(400, "missing_v3_session_pool", `no v3 session pool is configured for ${replicas} replica(s)`, {
      replicas,
      configured: Object.keys(config.v3Pools).map(Number),
    });
  }
  return id;
}

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
      Object.entries(loadConfig(c.env).v3Pools).map(async ([replicas, sessionId]) => {
        const session = await sessionClient(c.env, sessionId).find();
        return { replicas: Number(replicas), session_id: sessionId!, session_exists: session !== null, redundancy: session?.redundancy ?? null };
      }),
    );
    return c.json({ pools: pools.sort((a, b) => a.replicas - b.replicas) }, 200);
  },
);
