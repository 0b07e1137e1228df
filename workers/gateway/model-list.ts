import { z } from "@hono/zod-openapi";
import type { Env } from "../env";
import { sessionStub } from "../../domain/objects/stubs";
import { gatewayConfig, own } from "../../domain/gateway/gateway-config";

export const OpenAiModelListSchema = z
  .object({
    object: z.literal("list"),
    data: z.array(
      z.object({
        id: z.string().describe("a gateway model alias (GATEWAY_MODELS)"),
        object: z.literal("model"),
        created: z
          .number()
          .int()
          .nullable()
          .describe(
            "when the alias's session was created (Unix seconds). null when this router holds no such time: the alias's pool is a remote router (the session lives there), or its local session has not been created yet",
          ),
        owned_by: z.literal("cortensor"),
      }),
    ),
  })
  .openapi("OpenAiModelList");
export type OpenAiModelList = z.infer<typeof OpenAiModelListSchema>;

/**
 * The gateway's aliases as OpenAI models. An alias is config, not state, so
 * the one real time an alias has is its session's creation, which only the
 * Session object of a local pool knows; one read per alias (aliases are few).
 */
export async function openAiModelList(env: Env): Promise<OpenAiModelList> {
  const { models, pools } = gatewayConfig(env);
  const data = await Promise.all(
    Object.entries(models).map(async ([id, alias]) => {
      const createdAt = own(pools, alias.pool)?.type === "local" ? await sessionStub(env, alias.session_id).createdAt() : null;
      return { id, object: "model" as const, created: createdAt === null ? null : Math.floor(createdAt / 1000), owned_by: "cortensor" as const };
    }),
  );
  return { object: "list", data };
}
