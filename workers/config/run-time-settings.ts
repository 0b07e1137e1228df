import { createMiddleware } from "hono/factory";
import type { RunTimeSettings } from "../../durable-objects/run-time-settings";
import type { Env } from "../env";
import type { AppEnv } from "../http/app-env";
import { registryStub } from "../../domain/objects/stubs";

/**
 * Settings an operator changed at run time lie over the deployment's vars
 * (`wrangler.toml`, secrets): every request's `c.env` is the vars with the
 * changed ones replaced, so everything that reads the configuration
 * (`loadConfig(c.env)`) sees them. The registry holds them; this isolate
 * keeps its copy for `TTL_MS` and renews it in the background, so only an
 * isolate's first request waits for the registry, and a change reaches
 * every isolate within `TTL_MS` (at once in the isolate that made it).
 */
export const TTL_MS = 5_000;

let copy: { settings: RunTimeSettings; at: number } | undefined;
let renewing: Promise<RunTimeSettings> | undefined;
/** One overlaid env per deployment env and settings version, so the configuration is parsed once for each. */
const overlaid = new WeakMap<Env, { version: number; env: Env }>();

function renew(env: Env): Promise<RunTimeSettings> {
  renewing ??= registryStub(env)
    .runTimeSettings()
    .then((settings) => {
      remember(settings);
      return settings;
    })
    .finally(() => {
      renewing = undefined;
    });
  return renewing;
}

/** Keeps settings this isolate read or wrote (a newer version is never replaced by an older one). */
export function remember(settings: RunTimeSettings, now = Date.now()) {
  if (!copy || settings.version >= copy.settings.version) copy = { settings, at: now };
}

/** The deployment's vars with the run-time settings over them. */
export function withSettings(env: Env, settings: RunTimeSettings): Env {
  if (settings.version === 0) return env;
  const hit = overlaid.get(env);
  if (hit?.version === settings.version) return hit.env;
  const next = { ...env, ...settings.vars } as Env;
  overlaid.set(env, { version: settings.version, env: next });
  return next;
}

export const applyRunTimeSettings = createMiddleware<AppEnv>(async function applyRunTimeSettings(c, next) {
  let settings = copy?.settings;
  // With no copy and the registry failing, the deployment's own vars serve rather than nothing at all.
  if (!settings)
    settings = await renew(c.env).catch((err: unknown) => {
      console.error("run-time settings unavailable", err);
      return { version: 0, vars: {} };
    });
  else if (Date.now() - (copy?.at ?? 0) >= TTL_MS) {
    const background = renew(c.env).catch((err: unknown) => console.error("run-time settings refresh failed", err));
    try {
      c.executionCtx.waitUntil(background);
    } catch {
      // No execution context (a direct app.fetch): the refresh runs unawaited.
    }
  }
  c.env = withSettings(c.env, settings);
  await next();
});
