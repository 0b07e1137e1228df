import type { Context } from "hono";
import type { QuotaDecision } from "../../durable-objects/quota";
import { loadConfig, type RouterConfig } from "../../domain/config/config";
import type { Caller } from "../../domain/sessions/caller";
import { sessionClient } from "../../durable-objects/session/session-client";
import { quotaStub } from "../../domain/objects/stubs";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../../domain/errors";
import { recordActivity } from "../activity/record-activity";

export type TrialFamily = "completions" | "delegate" | "validate" | "factcheck";

/**
 * The client as the edge reports it: Cloudflare sets CF-Connecting-IP on
 * every request and overwrites a client's own, so nothing a client sends
 * (X-Forwarded-For, X-Real-IP, …) can change who it counts as.
 */
export function clientIdentity(c: Context<AppEnv>): string {
  return c.req.header("CF-Connecting-IP")?.trim() || "unknown";
}

/** Whether the configuration enables a trial family (TRIAL_ROUTES: a list, or "all"). */
export function trialEnabled(config: RouterConfig, family: TrialFamily): boolean {
  return config.trial.routes.has(family) || config.trial.routes.has("all");
}

/** The session a trial request runs on: one of TRIAL_SESSION_IDS (the first by default). */
export function trialSession(config: RouterConfig, requested: number | undefined): number {
  const allowed = config.trial.sessionIds;
  const [first] = allowed;
  if (first === undefined) throw new ApiError(503, "trial_unavailable", "no trial session is configured");
  if (requested === undefined) return first;
  if (!allowed.includes(requested)) {
    throw new ApiError(403, "trial_session_not_allowed", `session ${requested} is not open to trial requests`, { trial_sessions: allowed });
  }
  return requested;
}

/**
 * Counts a trial request against its client's window and the global daily
 * cap; over either, a 429 with `retry_after`. A request the router has
 * already answered (same client, same request_id) is not counted again.
 * Either way the day's trial activity counts it (admitted or refused).
 */
export async function admitTrial(c: Context<AppEnv>, family: TrialFamily, options: { replay: boolean }): Promise<string> {
  const config = loadConfig(c.env);
  if (!trialEnabled(config, family)) throw new ApiError(404, "not_found", `trial ${family} is not enabled on this router`);
  const identity = clientIdentity(c);
  if (options.replay) return identity;
  const limited = (d: QuotaDecision, what: string) => {
    if (d.ok) return;
    recordActivity(c, { channel: "trial", refused: 1 });
    throw new ApiError(429, "trial_quota_exceeded", `trial quota exceeded (${what})`, { retry_after: d.retryAfterS }, { "Retry-After": String(d.retryAfterS) });
  };
  limited(
    await quotaStub(c.env, `trial:ip:${identity}`).consume([{ name: "trial", limit: config.trial.requestsPerWindow, windowS: config.trial.windowS, cost: 1 }]),
    `${config.trial.requestsPerWindow} per ${config.trial.windowS} s per client`,
  );
  limited(await quotaStub(c.env, "trial:global").consume([{ name: "trial-daily", limit: config.trial.dailyCap, windowS: 86_400, cost: 1 }]), "the trial's daily cap");
  recordActivity(c, { channel: "trial", admitted: 1 });
  return identity;
}

/**
 * Admission for one trial request: the quota unless it is a replay. Returns
 * the caller, whose namespace its request ids live in: nobody replays
 * another client's task.
 */
export async function admitTrialRequest(c: Context<AppEnv>, family: TrialFamily, sessionId: number, requestId: string | undefined): Promise<Caller> {
  const caller: Caller = { kind: "trial", id: clientIdentity(c) };
  const replay = requestId !== undefined && (await sessionClient(c.env, sessionId).knowsRequest(caller, requestId));
  await admitTrial(c, family, { replay });
  return caller;
}
