import { createMiddleware } from "hono/factory";
import { remember } from "../config/run-time-settings";
import type { AppEnv } from "../http/app-env";
import { loadConfig } from "../../domain/config/config";
import type { Env } from "../env";
import { ApiError } from "../../domain/errors";
import { NODE_ONLY_SETTINGS, type NeuroShardConfigPatch } from "../../domain/schemas/neuroshard";
import { registryStub } from "../../domain/objects/stubs";

/** Each setting `PATCH config` may change, as `GET config` names it, and the var it lies over. */
const TUNABLE: Record<string, string> = {
  "router.default_timeout_s": "DEFAULT_TIMEOUT_S",
  "router.max_timeout_s": "MAX_TIMEOUT_S",
  "router.consensus.similarity_threshold": "CONSENSUS_SIMILARITY_THRESHOLD",
  "router.trial.requests_per_window": "TRIAL_REQUESTS_PER_WINDOW",
  "router.trial.window_s": "TRIAL_WINDOW_S",
  "router.trial.max_tokens": "TRIAL_MAX_TOKENS",
  "router.trial.max_timeout_s": "TRIAL_MAX_TIMEOUT_S",
};

/**
 * The seed's node settings (`training.batch_size`, `resources`, ports) are a
 * NeuroShard miner's, not this router's: it trains nothing and has no port of
 * its own, so it cannot honour them. Refused before anything is kept, saying
 * so and listing what is configurable here.
 */
export function refuseNodeSettings(patch: Readonly<Record<string, unknown>>): void {
  const named = NODE_ONLY_SETTINGS.find((k) => Object.hasOwn(patch, k) && (patch as Record<string, unknown>)[k] !== undefined);
  if (!named) return;
  const field = leaves({ [named]: (patch as Record<string, unknown>)[named] })[0]?.[0] ?? named;
  const why =
    named === "training"
      ? "training is the NeuroShard miners': each trains with its own settings, set on the miner; this router trains nothing"
      : "this router has no such node setting: a Worker has no port, tracker or resources of its own";
  throw new ApiError(400, "not_configurable", `${field} is not configurable here (${why}); configurable: ${Object.keys(TUNABLE).join(", ")}`, {
    field,
    configurable: Object.keys(TUNABLE),
  });
}

/**
 * The seed's `PATCH /config` example (`{"training": {"batch_size": 16}}`)
 * asks what no key may change: any key of the node's (router, admin or
 * customer: the seed's client holds one token) is told so, and why, rather
 * than a bare 401 for not being the admin's. Anything else goes on to the
 * admin-key check. The body is read once here (Hono keeps it for the validator).
 */
export const nodeSettingsRefusedToAnyKey = createMiddleware<AppEnv>(async function nodeSettingsRefusedToAnyKey(c, next) {
  const body: unknown = await c.req.json().catch(() => undefined);
  if (body !== null && typeof body === "object" && !Array.isArray(body)) refuseNodeSettings(body as Record<string, unknown>);
  await next();
});

/** The patch's leaves as dotted paths. */
function leaves(value: unknown, prefix = ""): [string, unknown][] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [[prefix, value]];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

/**
 * Applies a config patch: the vars it sets are checked as the whole
 * configuration they make (a default above the maximum, say, is refused
 * before anything is kept), then kept in the registry under a new version.
 * Every setting here is read per request, so none needs a restart.
 */
export async function patchConfig(env: Env, patch: NeuroShardConfigPatch) {
  refuseNodeSettings(patch as Record<string, unknown>);
  const changes = leaves(patch).filter(([path]) => path !== "");
  const vars: Record<string, string> = {};
  for (const [path, value] of changes) {
    const name = Object.hasOwn(TUNABLE, path) ? TUNABLE[path] : undefined;
    if (name) vars[name] = String(value);
  }
  if (Object.keys(vars).length === 0) throw new ApiError(400, "invalid_request", "nothing to update", { issues: [{ field: "(body)", message: "name a setting to change" }] });
  const current = await registryStub(env).runTimeSettings();
  // A candidate, not a version: built afresh, never from the per-version cache.
  const candidate = loadConfig({ ...env, ...current.vars, ...vars } as Env);
  if (candidate.defaultTimeoutS > candidate.maxTimeoutS) {
    throw new ApiError(400, "invalid_request", "router.default_timeout_s must not exceed router.max_timeout_s", {
      field: "router.default_timeout_s",
      issues: [{ field: "router.default_timeout_s", message: `must be at most max_timeout_s (${candidate.maxTimeoutS})` }],
    });
  }
  if (candidate.problems.length > 0) throw new ApiError(400, "invalid_request", "these settings make an invalid configuration", { problems: candidate.problems });
  remember(await registryStub(env).updateRunTimeSettings(vars));
  return { success: true as const, updated: changes.map(([path]) => path), restart_required: false };
}
