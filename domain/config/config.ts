import { z } from "zod";
import { chainSection, chainVars } from "./chain-vars.ts";
import { coreSection, coreVars } from "./core-vars.ts";
import { credentialsSection, credentialVars } from "./credentials.ts";
import { DEV_ADMIN_TOKEN, DEV_CREDENTIAL_KEY, DEV_CUSTOMER_ID, DEV_CUSTOMER_KEY, DEV_PAYLOAD_MASTER_KEY, DEV_ROUTER_SIGNER_KEY, DEV_ROUTER_TOKEN } from "./dev-credentials.ts";
import { economySection, economyVars } from "./economy-vars.ts";
import { gatewaySection, gatewayVars } from "./gateway-vars.ts";
import { minerSection, minerVars } from "./miner-vars.ts";
import { payloadSection, payloadVars } from "./payload-vars.ts";
import type { SectionContext } from "./var-readers.ts";
import { workSection, workVars } from "./work-vars.ts";

export { DEV_ROUTER_TOKEN, DEV_ADMIN_TOKEN, DEV_CREDENTIAL_KEY, DEV_CUSTOMER_ID, DEV_CUSTOMER_KEY, DEV_PAYLOAD_MASTER_KEY, DEV_ROUTER_SIGNER_KEY };
export { type AnchorTarget, type ChainConfig, type RewardTarget, type ChainTarget, chainSignerKey } from "./chain-vars.ts";
export type { StakeTier } from "./economy-vars.ts";
export type { Pool, Price } from "./gateway-vars.ts";
export type { Backend } from "./payload-vars.ts";

// ---------------------------------------------------------------------------
// Every var the router reads, with its default: each concern's module holds
// its vars (how each is read, its default, its documentation) and the plain
// function that turns them into its section of the configuration. This file
// composes them into the one schema. wrangler.toml [vars] lists the ones an
// operator commonly sets; the defaults live in these modules alone.
// ---------------------------------------------------------------------------

const VarsShape = {
  ...coreVars,
  ...minerVars,
  ...credentialVars,
  ...payloadVars,
  ...gatewayVars,
  ...economyVars,
  ...workVars,
  ...chainVars,
};

/** The vars as Workers passes them (every one a string, every one optional); `Env` is these plus the bindings. */
const VarsSchema = z.object(VarsShape);
export type Vars = z.input<typeof VarsSchema>;
/** The names of every var the router reads. */
export const VAR_NAMES: ReadonlySet<string> = new Set(Object.keys(VarsShape));

// ---------------------------------------------------------------------------
// The configuration the router runs with.
// ---------------------------------------------------------------------------

/**
 * The vars (and, by name, the R2 bindings and secrets they refer to) as the
 * configuration the router runs with. `problems` says why it must not serve;
 * a var that does not parse is one (in every environment), a production
 * configuration with a dev-only credential or a missing secret is another.
 */
const ConfigSchema = z.looseObject(VarsShape).transform((e) => {
  const context: SectionContext = { production: e.ENVIRONMENT === "production", problems: [] };
  // The sections in the order their problems are listed.
  const credentials = credentialsSection(e, context);
  const work = workSection(e, context);
  const core = coreSection(e, context);
  const miner = minerSection(e, context);
  const payloads = payloadSection(e, context);
  const gateway = gatewaySection(e, context);
  const economy = economySection(e, context);
  const chain = chainSection(e);
  return {
    ...core,
    ...miner,
    ...payloads,
    ...credentials,
    ...work,
    ...chain,
    ...gateway,
    ...economy,
    /** Why this configuration must not serve; empty when it may. */
    problems: context.problems,
  };
});

export type RouterConfig = z.output<typeof ConfigSchema>;
export type GatewayConfig = RouterConfig["gateway"];

const cache = new WeakMap<Vars, RouterConfig>();

/**
 * Reads and checks the configuration once per env object (Workers keeps one
 * per isolate, so the hot path reads it from the cache). A configuration
 * that does not parse, or a production one that would accept a dev-only
 * credential or lacks a secret, comes back with `problems`, and the app then
 * refuses every request.
 */
export function loadConfig(env: Vars): RouterConfig {
  const hit = cache.get(env);
  if (hit) return hit;
  const config = parseConfig(env);
  cache.set(env, config);
  return config;
}

function parseConfig(env: Vars): RouterConfig {
  const first = ConfigSchema.safeParse(env);
  if (first.success) return first.data;
  // Each var that does not parse is a problem; the rest of the configuration
  // is read without those vars (their defaults), so it is whole but refuses to serve.
  const problems = first.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  const bad = new Set(first.error.issues.map((i) => i.path[0]));
  const rest = Object.fromEntries(Object.entries(env).filter(([name]) => !bad.has(name)));
  // Every var reads unset as its default and the checks across vars are
  // problems, not issues, so without the vars that failed this parse succeeds.
  const config = ConfigSchema.parse(rest);
  return { ...config, problems: [...problems, ...config.problems] };
}
