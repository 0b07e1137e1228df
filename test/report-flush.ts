import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, beforeEach, vi } from "vitest";

/**
 * Sends a session's queued miner outcome reports to the registry now, as its
 * alarm would within FLUSH_INTERVAL_MS: the deterministic way for a test to
 * read reputation, health and stats after its tasks. False when the session
 * had no alarm set (nothing due).
 */
export function flushReports(sessionId: number): Promise<boolean> {
  return runDurableObjectAlarm(env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}`)));
}

/**
 * Freezes the test's clock a day ahead for each test of the enclosing
 * `describe`: a session's alarms (flushes 2 s after a report, by this clock)
 * then never fire on their own, and the test runs them (`flushReports`).
 */
export function freezeSessionAlarms(): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 24 * 60 * 60 * 1000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}
