/**
 * The API's shapes, as the Worker's own zod schemas and views define them:
 * type imports only, erased from the bundle (no zod in the page).
 */
import type { z } from "zod";
import type { MinerPublic, MinerRegisterSchema, MinerUpdate } from "../../workers/schemas/miner";
import type { Session } from "../../workers/schemas/session";
import type { AdminBalance, Balance, CustomerCreateSchema, CustomerEntry, KeyIssueSchema, KeyPublic, UsageRecord } from "../../workers/gateway/schemas";
import type { AssignmentView as Assignment, TaskDetailView as TaskDetail, TaskSummaryView as TaskSummary } from "../../workers/schemas/task";
import type { NeuroShardProofsSchema } from "../../workers/schemas/neuroshard";

export type { AdminBalance, Assignment, Balance, CustomerEntry, KeyPublic, MinerPublic, MinerUpdate, Session, TaskDetail, TaskSummary, UsageRecord };
export type MinerRegisterInput = z.input<typeof MinerRegisterSchema>;
export type CustomerCreateInput = z.input<typeof CustomerCreateSchema>;
export type KeyIssueInput = z.input<typeof KeyIssueSchema>;
export type IssuedKey = KeyPublic & { key: string };
export type { ChainStatus } from "../../workers/schemas/chain";
export type NeuroShardProofs = z.infer<typeof NeuroShardProofsSchema>;
export type { DeploymentMetrics, MetricsWindow } from "../../workers/schemas/metrics";
export type { RewardsReport, MinerRewards } from "../../workers/schemas/rewards-report";
export type { Conservation } from "../../workers/schemas/conservation";
