import { z } from "@hono/zod-openapi";

export const TaskSummarySchema = z
  .object({
    task_id: z.number().int(),
    session_id: z.number().int().nullable(),
    request_id: z.string().nullable(),
    caller: z
      .string()
      .nullable()
      .openapi({ description: "the namespace the request id belongs to: kind and a hash of the caller (router key, customer, x402 payer, trial client)" }),
    status: z.string(),
    kind: z.string(),
    redundancy: z.number().int(),
    created_at: z.string().nullable(),
    updated_at: z.string().nullable(),
    precommit_deadline_at: z.string().nullable(),
    deadline_at: z.string().nullable(),
  })
  .openapi("TaskSummary");
export type TaskSummaryView = z.infer<typeof TaskSummarySchema>;

/** A miner's own usage figures, as it reported them. */
export const ReportedUsageSchema = z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int() });

/** One miner's part in a task: its protocol times, its precommit hash, and how its result stood against the answer. */
export const AssignmentSchema = z
  .object({
    slot: z.number().int(),
    miner: z.string(),
    status: z.string(),
    assigned_at: z.string().nullable(),
    acked_at: z.string().nullable(),
    precommitted_at: z.string().nullable(),
    ended_at: z.string().nullable(),
    latency_ms: z.number().nullable(),
    precommit_hash: z.string().nullable(),
    output: z.string().nullable().openapi({ description: "null for a private session, whatever the records hold" }),
    result_urn: z.string().nullable(),
    agreed: z.boolean().nullable(),
    similarity: z.number().nullable(),
    late: z.boolean().openapi({ description: "the result came after the task was decided" }),
    error: z.string().nullable(),
    reported_usage: ReportedUsageSchema.nullable().openapi({
      description: "the usage the miner itself reported, kept for audit: what is billed is the router's own count (the completion's `usage`)",
    }),
    usage_misreport: z.string().nullable().openapi({ description: "why the reported usage was not believable (a fault of the miner, reported to the registry), or null" }),
    probation: z.boolean().openapi({ description: "the miner was on probation when picked: its answer counted only beside an established miner's" }),
  })
  .openapi("Assignment");
export type AssignmentView = z.infer<typeof AssignmentSchema>;

export const DissentSchema = z.object({ hash: z.string(), miners: z.array(z.string()), similarity: z.number().nullable(), late: z.boolean() });

export const TaskEventSchema = z.object({ slot: z.number().int().nullable(), state: z.string(), at: z.string().nullable() });

/** What `GET /api/v1/tasks/{sessionId}/{taskId}` answers; `result` is the completion the client got (null for a private session), `request` its settings. */
export const TaskDetailSchema = TaskSummarySchema.extend({
  request: z.record(z.string(), z.unknown()),
  payload_version: z.enum(["v2", "v3"]).nullable(),
  prompt_urn: z.string().nullable(),
  result_urn: z.string().nullable(),
  result: z.record(z.string(), z.unknown()).nullable(),
  error: z.object({ code: z.string(), message: z.string() }).passthrough().nullable(),
  assignments: z.array(AssignmentSchema),
  dissent: z.array(DissentSchema),
  events: z.array(TaskEventSchema),
  chain_miners: z
    .object({
      source: z.enum(["session", "task"]),
      named: z.array(z.string()),
      unreachable: z.array(z.string()),
      on_probation: z.array(z.string()),
      fallback: z.boolean(),
    })
    .optional()
    .openapi({
      description:
        "a hybrid chain task only: the miners its on-chain session (SessionCreated) or task (TaskAssigned) names, by address, which were picked first; unreachable: those no registered, available miner of the session's model holds; on_probation: those whose miner is on probation (it takes only the task's probation seats); fallback: the session's own miners made up what the named ones could not fill",
    }),
}).openapi("TaskDetail");
export type TaskDetailView = z.infer<typeof TaskDetailSchema>;
