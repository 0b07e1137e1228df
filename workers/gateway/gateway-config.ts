import { z } from "zod";
import type { Env } from "../env";

/**
 * The gateway's model aliases, router pools and prices, from vars:
 *
 *   GATEWAY_MODELS  {"default": {"pool": "local", "session_id": 0}}
 *   GATEWAY_POOLS   {"local": {"type": "local"},
 *                    "edge": {"type": "remote", "routers": [{"url": "https://r1.example", "key_secret": "EDGE_R1_KEY"}]}}
 *   GATEWAY_PRICES  {"*": {"prompt_per_1k_micros": 100, "completion_per_1k_micros": 200}}
 *
 * A remote router's bearer key is read from the secret named by `key_secret`.
 */
const ModelsSchema = z.record(z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/), z.object({ pool: z.string().min(1), session_id: z.number().int().min(0) }));
const PoolsSchema = z.record(
  z.string().min(1),
  z.discriminatedUnion("type", [
    z.object({ type: z.literal("local") }),
    z.object({
      type: z.literal("remote"),
      routers: z.array(z.object({ url: z.string().url(), key_secret: z.string().regex(/^[A-Z][A-Z0-9_]*$/) })).min(1),
      timeout_s: z.number().positive().max(900).default(300),
    }),
  ]),
);
const PriceSchema = z.object({ prompt_per_1k_micros: z.number().int().min(0), completion_per_1k_micros: z.number().int().min(0) });
const PricesSchema = z.record(z.string(), PriceSchema);

export type Pool = { name: string; type: "local" } | { name: string; type: "remote"; routers: { url: string; key: string }[]; timeoutS: number };
export type Price = z.infer<typeof PriceSchema>;
export type GatewayConfig = {
  models: z.infer<typeof ModelsSchema>;
  pools: Record<string, Pool>;
  prices: Record<string, Price>;
};

const DEFAULTS = {
  models: { default: { pool: "local", session_id: 0 } },
  pools: { local: { type: "local" } },
  prices: { "*": { prompt_per_1k_micros: 100, completion_per_1k_micros: 200 } },
};

const cache = new WeakMap<object, GatewayConfig>();

export function gatewayConfig(env: Env): GatewayConfig {
  const hit = cache.get(env);
  if (hit) return hit;
  const read = (raw: string | undefined, fallback: unknown) => (raw?.trim() ? JSON.parse(raw) : fallback);
  const models = ModelsSchema.parse(read(env.GATEWAY_MODELS, DEFAULTS.models));
  const rawPools = PoolsSchema.parse(read(env.GATEWAY_POOLS, DEFAULTS.pools));
  const secrets = env as unknown as Record<string, string | undefined>;
  const pools: Record<string, Pool> = {};
  for (const [name, p] of Object.entries(rawPools)) {
    pools[name] =
      p.type === "local"
        ? { name, type: "local" }
        : { name, type: "remote", timeoutS: p.timeout_s, routers: p.routers.map((r) => ({ url: r.url.replace(/\/+$/, ""), key: secrets[r.key_secret] ?? "" })) };
  }
  for (const [alias, m] of Object.entries(models)) {
    if (!pools[m.pool]) throw new Error(`GATEWAY_MODELS: alias ${alias} names unknown pool ${m.pool}`);
  }
  const config = { models, pools, prices: PricesSchema.parse(read(env.GATEWAY_PRICES, DEFAULTS.prices)) };
  cache.set(env, config);
  return config;
}

export function priceFor(config: GatewayConfig, model: string): Price {
  return config.prices[model] ?? config.prices["*"] ?? { prompt_per_1k_micros: 0, completion_per_1k_micros: 0 };
}

export function costMicros(price: Price, promptTokens: number, completionTokens: number): number {
  return Math.ceil((promptTokens * price.prompt_per_1k_micros + completionTokens * price.completion_per_1k_micros) / 1000);
}
