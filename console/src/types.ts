/**
 * The API's shapes, as the Worker's own zod schemas and views define them:
 * type imports only, erased from the bundle (no zod in the page).
 */
import type { z } from "zod";
import type { MinerPublic, MinerRegisterSchema, MinerUpdate } from "../../domain/schemas/miner";
import type { Session } from "../../domain/schemas/session";
import type { AdminBalance, Balance, CustomerCreateSchema, CustomerEntry, KeyIssueSchema, KeyPublic, UsageRecord } from "../../domain/gateway/schemas";
import type { AssignmentView as Assignment, TaskDetailView as TaskDetail, TaskSummaryView as TaskSummary } from "../../domain/schemas/task";
import type { NeuroShardProofsSchema } from "../../domain/schemas/neuroshard";

export type { AdminBalance, Assignment, Balance, CustomerEntry, KeyPublic, MinerPublic, MinerUpdate, Session, TaskDetail, TaskSummary, UsageRecord };
export type MinerRegisterInput = z.input<typeof MinerRegisterSchema>;
export type CustomerCreateInput = z.input<typeof CustomerCreateSchema>;
export type KeyIssueInput = z.input<typeof KeyIssueSchema>;
export type IssuedKey = KeyPublic & { key: string };
export type { ChainStatus } from "../../domain/schemas/chain";
export type NeuroShardProofs = z.infer<typeof NeuroShardProofsSchema>;
export type { DeploymentMetrics, MetricsWindow } from "../../domain/schemas/metrics";
export type { RewardsReport, MinerRewards } from "../../domain/schemas/rewards-report";
export type { Conservation } from "../../domain/schemas/conservation";
