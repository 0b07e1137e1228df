import { createRoute } from "@hono/zod-openapi";
import { requireAdminKey } from "../auth/bearer";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { DeploymentMetricsSchema, MetricsQuerySchema } from "../../domain/schemas/metrics";
import { deploymentMetrics } from "../sessions/deployment-series";

export const metricsAdminRoutes = openApiApp().openapi(
  createRoute({
    method: "get",
    path: "/api/v1/admin/metrics",
    summary:
      "The deployment's tasks over the last hour or day (per bucket: created, ended, failed, consensus, agreeing results, p50/p99 latency), errors by code, miners' health, sessions",
    security: bearerSecurity,
    middleware: [requireAdminKey()],
    tags: ["admin"],
    request: { query: MetricsQuerySchema },
    responses: { 200: json(DeploymentMetricsSchema, "Figures read from the sessions' stored tasks"), 400: errorResponses[400], 401: errorResponses[401] },
  }),
  async (c) => c.json(await deploymentMetrics(c.env, c.req.valid("query").window, Date.now()), 200),
);
