import { loadConfig, type Vars, type GatewayConfig, type Pool, type Price } from "../config/config.ts";
import { MAX_MICROS } from "../wallet/safe-micros.ts";

export type { GatewayConfig, Pool, Price };

/**
 * The gateway's model aliases, router pools and prices, from vars (read and
 * checked with the rest of the configuration, domain/config/config.ts):
 *
 *   GATEWAY_MODELS  {"default": {"pool": "local", "session_id": 0}}
 *   GATEWAY_POOLS   {"local": {"type": "local"},
 *                    "edge": {"type": "remote", "routers": [{"url": "https://r1.example", "key_secret": "EDGE_R1_KEY"}]}}
 *   GATEWAY_PRICES  {"*": {"prompt_per_1k_micros": 100, "completion_per_1k_micros": 200}}
 *
 * A remote router's bearer key is read from the secret named by `key_secret`.
 */
export function gatewayConfig(env: Vars): GatewayConfig {
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

/** A token count as BigInt: a fraction rounds down; a negative or non-finite count is none. */
const tokens = (n: number) => (Number.isFinite(n) && n > 0 ? BigInt(Math.floor(n)) : 0n);

/**
 * What tokens cost at `price`, rounded up, exactly (BigInt): a count so large
 * that the cost passes 2^53 − 1 costs 2^53 − 1 (the Ledger then bills what the
 * account can still hold, durable-objects/ledger.ts), never a rounded float.
 */
export function costMicros(price: Price, promptTokens: number, completionTokens: number): number {
  const cost = tokens(promptTokens) * BigInt(price.prompt_per_1k_micros) + tokens(completionTokens) * BigInt(price.completion_per_1k_micros);
  const micros = (cost + 999n) / 1000n;
  return micros > BigInt(MAX_MICROS) ? MAX_MICROS : Number(micros);
}
