import { createRoute } from "@hono/zod-openapi";
import { requireAdminKey } from "../auth/bearer";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { rewardsReport } from "../rewards/rewards-report";
import { ConservationSchema } from "../../domain/schemas/conservation";
import { RewardsReportSchema } from "../../domain/schemas/rewards-report";
import { conservation } from "../wallet/conservation";

export const ledgerAdminRoutes = openApiApp()
  .openapi(
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
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/rewards",
      summary:
        "Each miner's payout account, the stake multiplier selection weighs it by, the rewards credited (and held) to that account and the slashes taken from its stake; the reward and slashing settings in force",
      security: bearerSecurity,
      middleware: [requireAdminKey()],
      tags: ["admin"],
      responses: { 200: json(RewardsReportSchema, "Counts and integer micros, read from the registry and the payout accounts' Ledgers"), 401: errorResponses[401] },
    }),
    async (c) => c.json(await rewardsReport(c.env), 200),
  );
