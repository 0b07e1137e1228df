import { createRoute, z } from "@hono/zod-openapi";
import { requireAdminKey } from "../auth/bearer";
import { chainStatus } from "../chain/chain-access";
import { resyncChainIndex } from "../chain/resync";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { ErrorBodySchema } from "../../domain/errors";
import { errorResponses, json } from "../http/responses";
import { ChainStatusSchema } from "../../domain/schemas/chain";

const admin = { security: bearerSecurity, middleware: [requireAdminKey()], tags: ["admin"] };

const ResyncSchema = z
  .object({
    from_block: z
      .number({ error: "must be a block number (a non-negative integer)" })
      .int("must be a block number (a non-negative integer)")
      .min(0, "must be a block number (a non-negative integer)")
      .max(Number.MAX_SAFE_INTEGER)
      .optional()
      .openapi({ description: "default: CHAIN_START_BLOCK; at most the block after the index's cursor, and never beyond the chain head (else 400)" }),
  })
  .strict();

export const chainAdminRoutes = openApiApp().openapi(
  createRoute({
    method: "post",
    path: "/api/v1/admin/chain/resync",
    summary: "Drops the index from a block on and reads it again (restarts a stopped index)",
    ...admin,
    request: { body: { content: { "application/json": { schema: ResyncSchema } }, required: true } },
    responses: {
      202: json(ChainStatusSchema, "Resync started; the next ticks read the blocks again"),
      400: errorResponses[400],
      401: errorResponses[401],
      502: json(ErrorBodySchema, "The chain head could not be read"),
    },
  }),
  async (c) => {
    await resyncChainIndex(c.env, c.req.valid("json").from_block);
    return c.json(await chainStatus(c.env), 202);
  },
);
