import { createRoute } from "@hono/zod-openapi";
import { activityReport } from "../activity/activity-report";
import { requireAdminKey } from "../auth/bearer";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { ActivityQuerySchema, ActivityResponseSchema } from "../../domain/schemas/activity";

export const activityAdminRoutes = openApiApp().openapi(
  createRoute({
    method: "get",
    path: "/api/v1/admin/activity",
    summary: "Trial and x402 activity by UTC day: requests admitted and refused, payments settled and their amount, tokens",
    security: bearerSecurity,
    middleware: [requireAdminKey()],
    tags: ["admin"],
    request: { query: ActivityQuerySchema },
    responses: { 200: json(ActivityResponseSchema, "The recorded days, newest first"), 400: errorResponses[400], 401: errorResponses[401] },
  }),
  async (c) => c.json(await activityReport(c.env, c.req.valid("query").days, Date.now()), 200),
);
