import { loadConfig, type GatewayConfig, type Pool, type Price } from "../config/config";
import type { Env } from "../env";

export type { GatewayConfig, Pool, Price };

/**
 * The gateway's model aliases, router pools and prices, from vars (read and
 * checked with the rest of the configuration, workers/config/config.ts):
 *
 *   GATEWAY_MODELS  {"default": {"pool": "local", "session_id": 0}}
 *   GATEWAY_POOLS   {"local": {"type": "local"},
 *                    "edge": {"type": "remote", "routers": [{"url": "https://r1.example", "key_secret": "EDGE_R1_KEY"}]}}
 *   GATEWAY_PRICES  {"*": {"prompt_per_1k_micros": 100, "completion_per_1k_micros": 200}}
 *
 * A remote router's bearer key is read from the secret named by `key_secret`.
 */
export function gatewayConfig(env: Env): GatewayConfig {
  return loadConfig(env).gateway;
}

/**
 * An entry of a table read from JSON config, by a key a client chose: only
 * the table's own keys count, never what every object inherits (a model
 * named `constructor` or `__proto__` is unknown, not Object's prototype).
 */
export function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** The alias a client's `model` names, if the gateway has one. */
export const modelAlias = (config: GatewayConfig, model: string) => own(config.models, model);

export function priceFor(config: GatewayConfig, model: string): Price {
  return own(config.prices, model) ?? own(config.prices, "*") ?? { prompt_per_1k_micros: 0, completion_per_1k_micros: 0 };
}

export function costMicros(price: Price, promptTokens: number, completionTokens: number): number {
  return Math.ceil((promptTokens * price.prompt_per_1k_micros + completionTokens * price.completion_per_1k_micros) / 1000);
}
