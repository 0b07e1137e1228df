import type { WalletState } from "../../durable-objects/ledger";
import type { LedgerEntry } from "../../durable-objects/ledger-schema";
import { DAY_MS, type StakeRow } from "../../durable-objects/wallet/stakes";
import { loadConfig } from "../../domain/config/config";
import type { Env } from "../env";
import { ApiError, fieldError } from "../../domain/errors";
import type {
  Staking,
  WalletBalance,
  WalletSend,
  WalletSent,
  WalletStake,
  WalletStaked,
  WalletTransaction,
  WalletTransactions,
  WalletTransactionsQuery,
  WalletUnstake,
  WalletUnstaked,
} from "../../domain/schemas/wallet";
import { ledgerStub } from "../../domain/objects/stubs";
import { proofId } from "./node-report";
import { toAmount } from "../../domain/wallet/amounts";
import { multiplierOf, stakeTierFor } from "../../domain/wallet/stake-tiers";

const noAccount = (customerId: string) => new ApiError(404, "account_not_found", `account ${customerId} does not exist`);
/** A date as the seed writes it: YYYY-MM-DD (UTC). */
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function staking(s: StakeRow | null): Staking | null {
  if (!s) return null;
  return {
    amount: toAmount(s.amount_micros),
    duration_days: s.duration_days,
    start_date: day(s.start_at),
    unlock_date: day(s.unlock_at),
    multiplier: multiplierOf(s.multiplier_bps),
  };
}

function balanceOf(w: WalletState, currency: string): WalletBalance {
  const total = w.available_micros + w.staked_micros + w.pending_micros;
  return {
    address: w.customer_id,
    currency,
    balances: { available: toAmount(w.available_micros), staked: toAmount(w.staked_micros), pending: toAmount(w.pending_micros), total: toAmount(total) },
    staking: staking(w.stake),
  };
}

/** A customer's wallet: available, staked, pending (unstaked, cooling down) and its stake. */
export async function walletBalance(env: Env, customerId: string, now = Date.now()): Promise<WalletBalance> {
  const wallet = await ledgerStub(env, customerId).wallet(now);
  if (!wallet) throw noAccount(customerId);
  return balanceOf(wallet, loadConfig(env).wallet.currency);
}

export async function walletTransactions(env: Env, customerId: string, q: WalletTransactionsQuery): Promise<WalletTransactions> {
  const page = await ledgerStub(env, customerId).entries(q, Date.now());
  if (!page) throw noAccount(customerId);
  return { transactions: page.entries.map(toTransaction), total: page.total, limit: q.limit, offset: q.offset };
}

/** The account a wallet move is made from, and the key making it (its scope and spend limit are the Ledger's to check). */
export type WalletKey = { customerId: string; keyId: string };

/** Sends to another account: the sender's Ledger debits and delivers (see LedgerObject.send). */
export async function walletSend(env: Env, by: WalletKey, body: WalletSend, idempotencyKey: string | null): Promise<{ sent: WalletSent; replayed: boolean }> {
  const from = by.customerId;
  if (body.to === from) throw fieldError("to", "cannot send to the same account");
  const result = await ledgerStub(env, from).send(
    { to: body.to, amountMicros: body.amount, feeMicros: loadConfig(env).wallet.sendFeeMicros, memo: body.memo, idempotencyKey, keyId: by.keyId },
    Date.now(),
  );
  if (!result.ok) throw ApiError.from(result);
  const t = result.transfer;
  return {
    sent: {
      transaction_id: t.id,
      from: t.from,
      to: t.to,
      amount: toAmount(t.amount_micros),
      fee: toAmount(t.fee_micros),
      memo: t.memo,
      status: t.delivered ? "confirmed" : "pending",
      timestamp: new Date(t.created_at).toISOString(),
    },
    replayed: result.replayed,
  };
}

/** Stakes for a duration at its configured multiplier (WALLET_STAKE_MULTIPLIERS). */
export async function walletStake(env: Env, by: WalletKey, body: WalletStake, now = Date.now()): Promise<WalletStaked> {
  const tiers = loadConfig(env).wallet.stakeTiers;
  const tier = stakeTierFor(body.duration_days, tiers);
  if (!tier) throw fieldError("duration_days", `must be at least ${Math.min(...tiers.map((t) => t.days))} days`);
  const result = await ledgerStub(env, by.customerId).stake(
    { amountMicros: body.amount, durationDays: body.duration_days, multiplierBps: tier.multiplierBps, keyId: by.keyId },
    now,
  );
  if (!result.ok) throw ApiError.from(result);
  const stake = staking(result.stake);
  if (!stake) throw new Error("a stake came back empty");
  return { success: true, stake, new_balance: { available: toAmount(result.wallet.available_micros), staked: toAmount(result.wallet.staked_micros) } };
}

/** Starts an unlocked stake's cooldown (WALLET_UNSTAKE_COOLDOWN_DAYS). */
export async function walletUnstake(env: Env, by: WalletKey, body: WalletUnstake, now = Date.now()): Promise<WalletUnstaked> {
  const cooldownDays = loadConfig(env).wallet.unstakeCooldownDays;
  const result = await ledgerStub(env, by.customerId).unstake({ amountMicros: body.amount, cooldownMs: cooldownDays * DAY_MS, keyId: by.keyId }, now);
  if (!result.ok) throw ApiError.from(result);
  return { success: true, unstake: { amount: toAmount(result.amount_micros), cooldown_days: cooldownDays, available_date: day(result.available_at) } };
}

type Details = Record<string, string | number | null>;
const detailsOf = (json: string | null): Details => (json ? (JSON.parse(json) as Details) : {});
const num = (v: string | number | null | undefined) => (typeof v === "number" ? v : 0);

function toTransaction(e: LedgerEntry): WalletTransaction {
  const timestamp = new Date(e.at).toISOString();
  const amount = toAmount(e.amount_micros);
  switch (e.type) {
    case "reward":
      return {
        id: `tx_reward_${e.id}`,
        type: "reward",
        amount,
        timestamp,
        details: { proof_id: proofId(num(e.session_id), num(e.task_id)), session_id: e.session_id, task_id: e.task_id, miner_id: e.miner_id, role: e.role, slot: e.slot },
      };
    case "usage":
      return { id: `tx_usage_${e.id}`, type: "usage", amount, timestamp, details: { request_id: e.request_id, model: e.model, session_id: e.session_id, task_id: e.task_id } };
    case "credit":
      return { id: `tx_credit_${e.id}`, type: "credit", amount, timestamp, details: { memo: e.memo } };
    case "send": {
      const d = detailsOf(e.details);
      return {
        id: e.ref ?? `tx_send_${e.id}`,
        type: "send",
        amount,
        to: e.counterparty ?? "",
        timestamp,
        details: { amount: toAmount(num(d["amount_micros"])), fee: toAmount(num(d["fee_micros"])), memo: e.memo ?? "" },
      };
    }
    case "receive":
      return { id: `tx_receive_${e.id}`, type: "receive", amount, from: e.counterparty ?? "", timestamp, details: { transaction_id: e.ref ?? "", memo: e.memo ?? "" } };
    case "stake": {
      const d = detailsOf(e.details);
      return {
        id: `tx_stake_${e.id}`,
        type: "stake",
        amount,
        timestamp,
        details: { duration_days: num(d["duration_days"]), multiplier: multiplierOf(num(d["multiplier_bps"])), unlock_date: day(num(d["unlock_at"])) },
      };
    }
    case "unstake":
      return {
        id: `tx_unstake_${e.id}`,
        type: "unstake",
        amount: toAmount(e.pending_micros),
        timestamp,
        details: { available_date: day(num(detailsOf(e.details)["available_at"])) },
      };
    case "release":
      return { id: `tx_release_${e.id}`, type: "release", amount, timestamp, details: {} };
    case "slash":
      return { id: `tx_slash_${e.id}`, type: "slash", amount: toAmount(e.staked_micros), timestamp, details: { share_bps: num(detailsOf(e.details)["share_bps"]) } };
  }
}
