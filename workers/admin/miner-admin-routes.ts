import { createRoute, z } from "@hono/zod-openapi";
import { requireAdminKey } from "../auth/bearer";
import { loadConfig, type RouterConfig } from "../config/config";
import { ApiError } from "../http/errors";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { isPrivateHost } from "../net/address-guard";
import { MinerPublicSchema, MinerRegisterSchema, MinerUpdateSchema } from "../schemas/miner";
import type { Env } from "../env";
import { ledgerStub, registryStub } from "../stubs";

const admin = { security: bearerSecurity, middleware: [requireAdminKey()], tags: ["admin"] };
const MinerIdParamSchema = z.object({
  minerId: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/, "not a miner id")
    .openapi({ param: { name: "minerId", in: "path" } }),
});

function checkUrl(url: string | undefined, config: RouterConfig) {
  if (url === undefined || config.allowPrivateMinerUrls) return;
  if (isPrivateHost(new URL(url).hostname)) {
    throw new ApiError(400, "invalid_request", "invalid body: url: must not point at a loopback, private or link-local address", {
      issues: [{ field: "url", message: "private address" }],
    });
  }
}

/** A payout account must be a gateway customer: rewards to a name nobody holds would wait forever. */
async function checkPayoutAccount(env: Env, account: string | null | undefined) {
  if (!account || (await ledgerStub(env, account).balance())) return;
  throw new ApiError(400, "invalid_request", `invalid body: payout_account: no gateway customer ${account} exists`, {
    issues: [{ field: "payout_account", message: "unknown customer" }],
  });
}

const minerNotFound = (id: string) => new ApiError(404, "miner_not_found", `miner ${id} does not exist`);

export const minerAdminRoutes = openApiApp()
  .openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/miners",
      summary: "Registers a miner (an OpenAI-compatible server) with its bearer credential",
      ...admin,
      request: { body: { content: { "application/json": { schema: MinerRegisterSchema } }, required: true } },
      responses: {
        201: json(MinerPublicSchema, "Registered; the credential is stored sealed and never shown"),
        400: errorResponses[400],
        401: errorResponses[401],
        409: errorResponses[400],
      },
    }),
    async (c) => {
      const input = c.req.valid("json");
      checkUrl(input.url, loadConfig(c.env));
      await checkPayoutAccount(c.env, input.payout_account);
      const miner = await registryStub(c.env).registerMiner(input);
      if (!miner) throw new ApiError(409, "miner_exists", `miner ${input.id} already exists`);
      return c.json(miner, 201);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/api/v1/admin/miners/{minerId}",
      summary: "Updates a miner",
      ...admin,
      request: { params: MinerIdParamSchema, body: { content: { "application/json": { schema: MinerUpdateSchema } }, required: true } },
      responses: { 200: json(MinerPublicSchema, "Updated"), 400: errorResponses[400], 401: errorResponses[401], 404: errorResponses[404] },
    }),
    async (c) => {
      const { minerId } = c.req.valid("param");
      const patch = c.req.valid("json");
      checkUrl(patch.url, loadConfig(c.env));
      await checkPayoutAccount(c.env, patch.payout_account);
      const miner = await registryStub(c.env).updateMiner(minerId, patch);
      if (!miner) throw minerNotFound(minerId);
      return c.json(miner, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/api/v1/admin/miners/{minerId}",
      summary: "Removes a miner",
      ...admin,
      request: { params: MinerIdParamSchema },
      responses: { 200: json(z.object({ removed: z.string() }), "Removed"), 401: errorResponses[401], 404: errorResponses[404] },
    }),
    async (c) => {
      const { minerId } = c.req.valid("param");
      if (!(await registryStub(c.env).removeMiner(minerId))) throw minerNotFound(minerId);
      return c.json({ removed: minerId }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/miners/health-check",
      summary: "Runs the miner health check now (the cron trigger runs it periodically)",
      ...admin,
      responses: {
        200: json(z.object({ results: z.array(z.object({ id: z.string(), healthy: z.boolean(), error: z.string().nullable() })) }), "Results"),
        401: errorResponses[401],
      },
    }),
    async (c) => c.json({ results: await registryStub(c.env).checkHealth() }, 200),
  );
