import { z } from "@hono/zod-openapi";
import { parseMicros } from "../wallet/amounts.ts";
import { EvmAddressSchema, queryInt } from "./common.ts";

/**
 * The NeuroShard wallet routes (shared/seeds/003 "Wallet") over a gateway
 * customer's Ledger. Amounts are the Ledger's micros shown as decimals of
 * the gateway's currency (micros / 1e6): never stored as floating point.
 */

/** An amount in a request: a positive decimal, as a JSON number or string, at most 6 decimals; read into integer micros. */
export const WalletAmountSchema = z
  .union([z.string(), z.number()])
  .transform((value, ctx) => {
    const read = parseMicros(value);
    if ("problem" in read) {
      ctx.addIssue({ code: "custom", message: read.problem });
      return z.NEVER;
    }
    return read.micros;
  })
  .openapi({ description: "a positive decimal of the currency, at most 6 decimals (number or string)", example: 100 });

export const StakingSchema = z.object({
  amount: z.number(),
  duration_days: z.number().int(),
  /** YYYY-MM-DD (UTC). */
  start_date: z.string(),
  unlock_date: z.string(),
  multiplier: z.number(),
});
export type Staking = z.infer<typeof StakingSchema>;

export const WalletBalanceSchema = z
  .object({
    /** The account: the gateway customer id. */
    address: z.string(),
    /** The currency the amounts are in (LEDGER_CURRENCY). */
    currency: z.string(),
    balances: z.object({
      available: z.number(),
      staked: z.number(),
      /** Unstaked, in its cooldown: available again on its date. */
      pending: z.number(),
      total: z.number(),
    }),
    /** The account's stake; null while it has none. */
    staking: StakingSchema.nullable(),
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
  /** The task the reward was earned on, as `GET /neuroshard/api/v1/proofs` names it: `proof_<session id>_<task id>` (its receipt: /api/v1/tasks/{session}/{task}/receipt). */
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
const base = { id: z.string(), amount: z.number(), timestamp: z.string() };

/** `amount` is the change to the available balance (an unstake: the amount entering its cooldown; a slash: taken from the stake). */
export const WalletTransactionSchema = z.discriminatedUnion("type", [
  z.object({ ...base, type: z.literal("reward"), details: RewardDetailsSchema }),
  /** A usage charge: negative. */
  z.object({ ...base, type: z.literal("usage"), details: UsageDetailsSchema }),
  z.object({ ...base, type: z.literal("credit"), details: z.object({ memo: z.string().nullable() }) }),
  /** Amount and fee, negative. */
  z.object({ ...base, type: z.literal("send"), to: z.string(), details: z.object({ amount: z.number(), fee: z.number(), memo: z.string() }) }),
  z.object({ ...base, type: z.literal("receive"), from: z.string(), details: z.object({ transaction_id: z.string(), memo: z.string() }) }),
  z.object({ ...base, type: z.literal("stake"), details: z.object({ duration_days: z.number().int(), multiplier: z.number(), unlock_date: z.string() }) }),
  z.object({ ...base, type: z.literal("unstake"), details: z.object({ available_date: z.string() }) }),
  /** An unstake's cooldown ended: its amount is available again. */
  z.object({ ...base, type: z.literal("release"), details: z.object({}) }),
  z.object({ ...base, type: z.literal("slash"), details: z.object({ share_bps: z.number().int() }) }),
  /** Earnings settled on chain: negative, they left the balance for the RewardDistributor, claimable there as its token by `address` (README "Claimable rewards"). */
  z.object({
    ...base,
    type: z.literal("settle"),
    details: z.object({ distributor: z.string(), address: z.string(), miner_id: z.string(), round: z.number().int() }),
  }),
]);
export type WalletTransaction = z.infer<typeof WalletTransactionSchema>;

export const WalletTransactionsSchema = z
  .object({ transactions: z.array(WalletTransactionSchema), total: z.number().int(), limit: z.number().int(), offset: z.number().int() })
  .openapi("WalletTransactions");
export type WalletTransactions = z.infer<typeof WalletTransactionsSchema>;

/**
 * A send's recipient: a gateway customer id, or an EVM address the router
 * knows (workers/neuroshard/wallet.ts `recipientAccount`): a miner's
 * registered `evm_address` (its payout account) or an address a customer
 * proved for its account (POST /neuroshard/api/v1/wallet/addresses). A
 * customer id is at most 40 characters, so it is never read as an address.
 */
export const WalletRecipientSchema = z
  .string()
  .regex(/^(?:[a-z0-9][a-z0-9-]{0,39}|0x[0-9a-fA-F]{40})$/, "a gateway customer id, or a 0x-prefixed 20-byte EVM address registered here")
  .openapi({ description: "the receiving account: a gateway customer id, or the EVM address a miner or a customer registered for it", example: "0xabcd…1234" });

export const WalletSendSchema = z
  .object({
    to: WalletRecipientSchema,
    amount: WalletAmountSchema,
    memo: z.string().max(256).default(""),
  })
  .strict()
  .openapi("WalletSend");
export type WalletSend = z.infer<typeof WalletSendSchema>;

/** The `Idempotency-Key` header of a send: a retried send with the same key moves money once and answers the same. */
export const IdempotencyKeyHeaderSchema = z.object({
  "idempotency-key": z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/, "1-128 printable ASCII characters, no spaces")
    .optional()
    .openapi({ param: { name: "idempotency-key", in: "header" }, example: "send-2024-12-04-001" }),
});

export const WalletSentSchema = z
  .object({
    transaction_id: z.string(),
    from: z.string(),
    /** The recipient as the request wrote it (a customer id or an address). */
    to: z.string(),
    /** The account it reached: `to` itself, or the customer id an address leads to. */
    to_account: z.string(),
    amount: z.number(),
    fee: z.number(),
    memo: z.string(),
    /** `confirmed`: credited to the recipient; `pending`: debited here, its delivery retried until it lands. */
    status: z.enum(["confirmed", "pending"]),
    timestamp: z.string(),
  })
  .openapi("WalletSent");
export type WalletSent = z.infer<typeof WalletSentSchema>;

export const WalletStakeSchema = z
  .object({ amount: WalletAmountSchema, duration_days: z.number().int().min(1).max(3650) })
  .strict()
  .openapi("WalletStake");
export type WalletStake = z.infer<typeof WalletStakeSchema>;

export const WalletStakedSchema = z
  .object({ success: z.literal(true), stake: StakingSchema, new_balance: z.object({ available: z.number(), staked: z.number() }) })
  .openapi("WalletStaked");
export type WalletStaked = z.infer<typeof WalletStakedSchema>;

export const WalletUnstakeSchema = z.object({ amount: WalletAmountSchema }).strict().openapi("WalletUnstake");
export type WalletUnstake = z.infer<typeof WalletUnstakeSchema>;

export const WalletUnstakedSchema = z
  .object({ success: z.literal(true), unstake: z.object({ amount: z.number(), cooldown_days: z.number().int(), available_date: z.string() }) })
  .openapi("WalletUnstaked");
export type WalletUnstaked = z.infer<typeof WalletUnstakedSchema>;

/** A challenge for proving an address for the key's account: sign `message` with the address's key (EIP-191 personal_sign). */
export const WalletAddressChallengeRequestSchema = z.object({ address: EvmAddressSchema }).strict().openapi("WalletAddressChallengeRequest");
export const WalletAddressChallengeSchema = z
  .object({
    nonce: z.string(),
    message: z.string().openapi({ description: "The text to sign (EIP-191 personal_sign) with the address's key" }),
    router: z.string().openapi({ description: "The router's signer address, which the message names" }),
    account: z.string().openapi({ description: "The account the address will lead to, which the message names" }),
    address: z.string(),
    issued_at: z.string(),
    expires_at: z.string(),
  })
  .openapi("WalletAddressChallenge");

/** An address with its proof: the nonce of a challenge for this account, signed by the address's key. */
export const WalletAddressRegisterSchema = z
  .object({
    address: EvmAddressSchema,
    nonce: z.string().regex(/^[0-9a-f]{32}$/, "the nonce of a challenge from POST /neuroshard/api/v1/wallet/addresses/challenge"),
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "a 65-byte 0x-prefixed hex signature") as z.ZodType<`0x${string}`>,
  })
  .strict()
  .openapi("WalletAddressRegister");
export type WalletAddressRegister = z.infer<typeof WalletAddressRegisterSchema>;

export const WalletAddressSchema = z
  .object({
    /** The account a send to `address` now reaches. */
    account: z.string(),
    /** EIP-55 checksummed. */
    address: z.string(),
    registered_at: z.string(),
    /** Every address the account holds, EIP-55 checksummed, oldest first. */
    addresses: z.array(z.string()),
  })
  .openapi("WalletAddress");
export type WalletAddress = z.infer<typeof WalletAddressSchema>;
