import type { ActivityChannel, ActivityCounts } from "../workers/schemas/activity";
import type { Sql } from "./sqlite-object";

/**
 * Trial and x402 activity by UTC day: one row per day and channel, summed
 * from the isolates' batches (workers/activity/record-activity.ts). Kept in
 * the registry, the deployment's one directory object: the figures are
 * deployment-wide, and isolates send them a batch at a time, never a call a
 * request.
 */
export const ACTIVITY_DAYS_MIGRATION = `CREATE TABLE activity_days (
     day TEXT NOT NULL,
     channel TEXT NOT NULL,
     admitted INTEGER NOT NULL DEFAULT 0,
     refused INTEGER NOT NULL DEFAULT 0,
     settled INTEGER NOT NULL DEFAULT 0,
     settled_micros INTEGER NOT NULL DEFAULT 0,
     tokens INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (day, channel)
   );`;

/** Adds each sum to its day's row (one statement each, no await between them: one storage turn). */
export function addActivity(sql: Sql, sums: readonly ActivityCounts[]): void {
  for (const s of sums) {
    sql`INSERT INTO activity_days (day, channel, admitted, refused, settled, settled_micros, tokens)
        VALUES (${s.day}, ${s.channel}, ${s.admitted}, ${s.refused}, ${s.settled}, ${s.settled_micros}, ${s.tokens})
        ON CONFLICT (day, channel) DO UPDATE SET admitted = admitted + excluded.admitted, refused = refused + excluded.refused,
          settled = settled + excluded.settled, settled_micros = settled_micros + excluded.settled_micros, tokens = tokens + excluded.tokens`;
  }
}

/** Every row from `fromDay` (YYYY-MM-DD) on, newest first. */
export function readActivity(sql: Sql, fromDay: string): ActivityCounts[] {
  return sql<ActivityCounts & { channel: ActivityChannel }>`
    SELECT day, channel, admitted, refused, settled, settled_micros, tokens FROM activity_days WHERE day >= ${fromDay} ORDER BY day DESC, channel`;
}
