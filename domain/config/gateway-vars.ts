import { z } from "zod";
import { BINDING_NAME, json, type SectionContext, type WithBindings } from "./var-readers.ts";

/** GATEWAY_MODELS: model alias → router pool and session. */
const GatewayModelsSchema = z
  .record(z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/), z.object({ pool: z.string().min(1), session_id: z.number().int().min(0) }))
  .default({ default: { pool: "local", session_id: 0 } });

/**
 * GATEWAY_POOLS: local = this deployment, in-process; remote = routers
 * speaking the v3 API, each router's bearer key in the secret `key_secret` names.
 */
const GatewayPoolsSchema = z
  .record(
    z.string().min(1),
    z.discriminatedUnion("type", [
      z.object({ type: z.literal("local") }),
      z.object({
        type: z.literal("remote"),
        routers: z.array(z.object({ url: z.url(), key_secret: z.string().regex(BINDING_NAME) })).min(1),
        timeout_s: z.number().positive().max(900).default(300),
      }),
    ]),
  )
  .default({ local: { type: "local" } });

const PriceSchema = z.object({ prompt_per_1k_micros: z.number().int().min(0), completion_per_1k_micros: z.number().int().min(0) });
/** GATEWAY_PRICES: model alias (or "*") → millionths of a dollar per 1k tokens. */
const GatewayPricesSchema = z.record(z.string(), PriceSchema).default({ "*": { prompt_per_1k_micros: 100, completion_per_1k_micros: 200 } });

/** The hosted gateway: model aliases, the router pools they run on, and their prices. */
export const gatewayVars = {
  GATEWAY_MODELS: json(GatewayModelsSchema, '{"default": {"pool": "local", "session_id": 0}}'),
  GATEWAY_POOLS: json(GatewayPoolsSchema, '{"local": {"type": "local"}}'),
  GATEWAY_PRICES: json(GatewayPricesSchema, '{"*": {"prompt_per_1k_micros": 100, "completion_per_1k_micros": 200}}'),
};

export type Price = z.infer<typeof PriceSchema>;
export type Pool = { name: string; type: "local" } | { name: string; type: "remote"; routers: { url: string; key: string }[]; timeoutS: number };

export function gatewaySection(e: WithBindings<typeof gatewayVars>, { problems }: SectionContext) {
  // Gateway pools, with the remote routers' keys read from the secrets they name.
  const pools: Record<string, Pool> = {};
  for (const [name, p] of Object.entries(e.GATEWAY_POOLS)) {
    if (p.type === "local") {
      pools[name] = { name, type: "local" };
      continue;
    }
    const routers = p.routers.map((r) => {
      const key = e[r.key_secret];
      if (typeof key !== "string" || !key) problems.push(`GATEWAY_POOLS: pool ${name} names secret ${r.key_secret}, which is not set`);
      return { url: r.url.replace(/\/+$/, ""), key: typeof key === "string" ? key : "" };
    });
    pools[name] = { name, type: "remote", timeoutS: p.timeout_s, routers };
  }
  for (const [alias, m] of Object.entries(e.GATEWAY_MODELS)) {
    if (!Object.hasOwn(pools, m.pool)) problems.push(`GATEWAY_MODELS: alias ${alias} names unknown pool ${m.pool}`);
  }
  return {
    /** The hosted gateway's model aliases, router pools and prices. */
    gateway: { models: e.GATEWAY_MODELS, pools, prices: e.GATEWAY_PRICES },
  };
}
