import type { ActivityBatch, ActivityChannel, ActivityCounts } from "../domain/schemas/activity";
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

/**
 * The ids of the activity batches applied lately: adding is not
 * idempotent, so an isolate that retries a batch whose first answer was
 * lost (it may have been applied) sends the same id, and the batch counts
 * once. Kept a day, far longer than any retry.
 */
export const ACTIVITY_BATCHES_MIGRATION = `CREATE TABLE activity_batches (
     batch_id TEXT PRIMARY KEY,
     received_at INTEGER NOT NULL
   );
   CREATE INDEX activity_batches_received ON activity_batches (received_at);`;
const ACTIVITY_BATCH_MEMORY_MS = 24 * 60 * 60 * 1000;

/**
 * Applies a batch once per batch id: the sums and the id are written with
 * no await between them (one storage turn, so both or neither). Answers
 * whether it was a duplicate (applied before, acknowledged again).
 */
export function addActivityBatch(sql: Sql, batch: ActivityBatch, now: number): { duplicate: boolean } {
  if (sql`SELECT 1 FROM activity_batches WHERE batch_id = ${batch.batchId}`.length > 0) return { duplicate: true };
  addActivity(sql, batch.sums);
  sql`INSERT INTO activity_batches (batch_id, received_at) VALUES (${batch.batchId}, ${now})`;
  sql`DELETE FROM activity_batches WHERE received_at < ${now - ACTIVITY_BATCH_MEMORY_MS}`;
  return { duplicate: false };
}

/** Adds each sum to its day's row (one statement each, no await between them: one storage turn). */
function addActivity(sql: Sql, sums: readonly ActivityCounts[]): void {
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
