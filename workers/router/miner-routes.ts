import { createRoute, z } from "@hono/zod-openapi";
import { requireRouterKey } from "../auth/bearer";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { MinerPublicSchema } from "../../domain/schemas/miner";
import { registryStub } from "../../domain/objects/stubs";

const MinerListSchema = z.object({ miners: z.array(MinerPublicSchema) }).openapi("MinerList");

export const minerRoutes = openApiApp().openapi(
  createRoute({
    method: "get",
    path: "/api/v1/miners",
    tags: ["miners"],
    summary: "Lists the miners connected to this router",
    security: bearerSecurity,
    middleware: [requireRouterKey()],
    responses: { 200: json(MinerListSchema, "Miners, without credentials"), 401: errorResponses[401] },
  }),
  async (c) => c.json({ miners: await registryStub(c.env).listMiners() }, 200),
);
