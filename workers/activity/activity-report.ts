import type { Env } from "../env";
import type { ActivityCounts, ActivityDay, ActivityResponse } from "../../domain/schemas/activity";
import { registryStub } from "../../domain/objects/stubs";
import { microsText } from "../../domain/wallet/amounts";
import { utcDay } from "./record-activity";

const DAY_MS = 86_400_000;
const none = { admitted: 0, refused: 0, settled: 0, settled_micros: 0, tokens: 0 };

/** The stored rows as the admin API shows them: one entry per day that has any, both channels in it. */
export function activityDays(rows: readonly ActivityCounts[]): ActivityDay[] {
  const days = [...new Set(rows.map((r) => r.day))].sort().reverse();
  return days.map((day) => {
    const trial = rows.find((r) => r.day === day && r.channel === "trial") ?? none;
    const x402 = rows.find((r) => r.day === day && r.channel === "x402") ?? none;
    return {
      day,
      trial: { admitted: trial.admitted, refused: trial.refused, tokens: trial.tokens },
      x402: { admitted: x402.admitted, refused: x402.refused, settled: x402.settled, settled_usd: microsText(x402.settled_micros), tokens: x402.tokens },
    };
  });
}

/** The last `days` UTC days of trial and x402 activity, today included, from the registry's sums. */
export async function activityReport(env: Env, days: number, now: number): Promise<ActivityResponse> {
  const from = utcDay(now - (days - 1) * DAY_MS);
  const rows = await registryStub(env).activity(from);
  return { from, to: utcDay(now), days: activityDays(rows) };
}
