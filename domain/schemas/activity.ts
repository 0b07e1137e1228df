import { z } from "@hono/zod-openapi";

/** The two ways in without a gateway key: trial (free, under a quota) and x402 (paid per request). */
export const ActivityChannelSchema = z.enum(["trial", "x402"]);
export type ActivityChannel = z.infer<typeof ActivityChannelSchema>;

/** What one request adds to its day's figures (all counts; `settled_micros` in millionths of a dollar). */
export const ActivityDeltaSchema = z.object({
  channel: ActivityChannelSchema,
  admitted: z.number().int().nonnegative().default(0),
  refused: z.number().int().nonnegative().default(0),
  settled: z.number().int().nonnegative().default(0),
  settled_micros: z.number().int().nonnegative().default(0),
  tokens: z.number().int().nonnegative().default(0),
});
export type ActivityDelta = z.input<typeof ActivityDeltaSchema>;
/** A day's sum for one channel, as stored. */
export type ActivityCounts = z.output<typeof ActivityDeltaSchema> & { day: string };
/** One isolate's batch of sums, named once by its sender so that a retry of it is recognised (and counted once). */
export type ActivityBatch = { batchId: string; sums: ActivityCounts[] };

export const MAX_ACTIVITY_DAYS = 90;

export const ActivityQuerySchema = z.object({
  days: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_ACTIVITY_DAYS)
    .default(14)
    .openapi({ param: { name: "days", in: "query" }, description: `how many UTC days back, today included (1 to ${MAX_ACTIVITY_DAYS}, default 14)` }),
});

const count = (description: string) => z.number().int().openapi({ description });

export const TrialDaySchema = z.object({
  admitted: count("trial requests let through the quota (a replayed request_id is not counted again)"),
  refused: count("trial requests refused by the quota (429 trial_quota_exceeded: the client's window or the daily cap)"),
  tokens: count("prompt and completion tokens of the trial completions answered from a decided task (not of live streams, replays or work routes)"),
});

export const X402DaySchema = z.object({
  admitted: count("paid requests whose payment the facilitator verified and the router claimed, so the work ran"),
  refused: count("paid requests whose payment was refused: invalid, or an authorization already used"),
  settled: count("payments settled on chain after the work succeeded (a replay answered from an already paid task settles nothing)"),
  settled_usd: z.string().openapi({ description: "what the settled payments were for, the routes' configured prices, as a decimal" }),
  tokens: count("prompt and completion tokens of the paid completions answered from a decided task"),
});

export const ActivityDaySchema = z.object({
  day: z.string().openapi({ description: "UTC date, YYYY-MM-DD" }),
  trial: TrialDaySchema,
  x402: X402DaySchema,
});

export const ActivityResponseSchema = z
  .object({
    from: z.string().openapi({ description: "first UTC day asked for" }),
    to: z.string().openapi({ description: "today (UTC)" }),
    days: z.array(ActivityDaySchema).openapi({ description: "only the days with any activity, newest first; empty when nothing was recorded" }),
  })
  .openapi("Activity");
export type ActivityResponse = z.infer<typeof ActivityResponseSchema>;
export type ActivityDay = z.infer<typeof ActivityDaySchema>;
