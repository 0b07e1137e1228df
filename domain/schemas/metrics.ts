import { z } from "@hono/zod-openapi";

export const MetricsWindowSchema = z.enum(["hour", "day"]);
export type MetricsWindow = z.infer<typeof MetricsWindowSchema>;

export const MetricsQuerySchema = z.object({
  window: MetricsWindowSchema.default("hour").openapi({ param: { name: "window", in: "query" }, description: "hour: 60 one-minute buckets; day: 96 buckets of 15 minutes" }),
});

const rate = { results_agreed: z.number().int(), results_disagreed: z.number().int() };

const MetricsBucketSchema = z.object({
  start: z.string().openapi({ description: "the bucket's start; tasks are counted in the bucket they were created in" }),
  tasks: z.number().int(),
  ended: z.number().int(),
  failed: z.number().int().openapi({ description: "failed or timed out" }),
  reached: z.number().int().openapi({ description: "ended tasks whose miners reached consensus (a majority agreed)" }),
  ...rate,
  p50_ms: z.number().nullable().openapi({ description: "null: no task of the bucket ended" }),
  p99_ms: z.number().nullable(),
  errors: z.record(z.string(), z.number().int()).openapi({ description: "the bucket's failed and timed-out tasks by error code" }),
});

export const DeploymentMetricsSchema = z
  .object({
    window: MetricsWindowSchema,
    from: z.string(),
    to: z.string(),
    bucket_s: z.number().int(),
    latency_bin_ratio: z.number().openapi({ description: "percentiles are the upper edge of a log-scale histogram bin this many times wider than the one before" }),
    miners: z
      .object({ total: z.number().int(), serving: z.number().int(), benched: z.number().int() })
      .openapi({ description: "serving: healthy and not benched by an operator; benched: the rest" }),
    sessions: z.object({ total: z.number().int(), active: z.number().int() }),
    totals: MetricsBucketSchema.omit({ start: true }),
    buckets: z.array(MetricsBucketSchema),
    errors: z.array(z.object({ code: z.string(), count: z.number().int() })).openapi({ description: "failed and timed-out tasks of the window by error code, most first" }),
  })
  .openapi("DeploymentMetrics");
export type DeploymentMetrics = z.infer<typeof DeploymentMetricsSchema>;
