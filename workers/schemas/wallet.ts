import { z } from "@hono/zod-openapi";
import { queryInt } from "./common";

/**
 * The NeuroShard wallet routes (shared/seeds/003 "Wallet") over a gateway
 * customer's Ledger. Amounts are the Ledger's micros shown as decimals of
 * the gateway's currency (micros / 1e6): never stored as floating point.
 */
export const WalletBalanceSchema = z
  .object({
    /** The account: the gateway customer id. */
    address: z.string(),
    balances: z.object({
      available: z.number(),
      /** Nothing is staked or pending at the Ledger yet (staking is not built): 0. */
      staked: z.number(),
      pending: z.number(),
      total: z.number(),
    }),
    /** The account's stake; null while it has none. */
    staking: z.null(),
  })
  .openapi("WalletBalance");
export type WalletBalance = z.infer<typeof WalletBalanceSchema>;

export const WalletTransactionsQuerySchema = z.object({
  limit: queryInt("limit", { min: 1, max: 100, fallback: 10 }),
  offset: queryInt("offset", { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 }),
});
export type WalletTransactionsQuery = z.infer<typeof WalletTransactionsQuerySchema>;

/**
 * A miner's part in the task it was rewarded for: `worker` when its output is
 * the answer the client got, `validator` when its result agreed with it.
 */
export const RewardRoleSchema = z.enum(["worker", "validator"]);
export type RewardRole = z.infer<typeof RewardRoleSchema>;

const RewardDetailsSchema = z.object({
  /** The task the reward was earned on: `<session id>:<task id>` (its receipt: /api/v1/receipts/...). */
  proof_id: z.string(),
  session_id: z.number().int(),
  task_id: z.number().int(),
  miner_id: z.string(),
  role: RewardRoleSchema,
  /** The miner's slot in the task (its place in the receipt's results). */
  slot: z.number().int(),
});
const UsageDetailsSchema = z.object({
  request_id: z.string(),
  model: z.string(),
  session_id: z.number().int().nullable(),
  task_id: z.number().int().nullable(),
});

export const WalletTransactionSchema = z.discriminatedUnion("type", [
  z.object({ id: z.string(), type: z.literal("reward"), amount: z.number(), timestamp: z.string(), details: RewardDetailsSchema }),
  /** A usage charge: negative. */
  z.object({ id: z.string(), type: z.literal("usage"), amount: z.number(), timestamp: z.string(), details: UsageDetailsSchema }),
]);
export type WalletTransaction = z.infer<typeof WalletTransactionSchema>;

export const WalletTransactionsSchema = z
  .object({ transactions: z.array(WalletTransactionSchema), total: z.number().int(), limit: z.number().int(), offset: z.number().int() })
  .openapi("WalletTransactions");
export type WalletTransactions = z.infer<typeof WalletTransactionsSchema>;
