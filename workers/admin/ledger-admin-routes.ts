import { createRoute } from "@hono/zod-openapi";
import { requireAdminKey } from "../auth/bearer";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { ConservationSchema } from "../schemas/conservation";
import { conservation } from "../wallet/conservation";

export const ledgerAdminRoutes = openApiApp().openapi(
  createRoute({
    method: "get",
    path: "/api/v1/admin/ledger/conservation",
    summary: "Checks that all accounts' money adds up: holdings, transfers in flight, fees and slashes against credits, rewards and charges",
    security: bearerSecurity,
    middleware: [requireAdminKey()],
    tags: ["admin"],
    responses: { 200: json(ConservationSchema, "The figures (integer micros) and whether they hold"), 401: errorResponses[401] },
  }),
  async (c) => c.json(await conservation(c.env), 200),
);
