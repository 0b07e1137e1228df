import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";

/**
 * Sends a session's queued miner outcome reports to the registry now, as its
 * alarm would within FLUSH_INTERVAL_MS: the deterministic way for a test to
 * read reputation, health and stats after its tasks. False when the session
 * had no alarm set (nothing due).
 */
export function flushReports(sessionId: number): Promise<boolean> {
  return runDurableObjectAlarm(env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}`)));
}
