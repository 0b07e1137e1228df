import type { LedgerEntry } from "../../durable-objects/ledger";
import type { Env } from "../env";
import { ApiError } from "../http/errors";
import type { WalletBalance, WalletTransaction, WalletTransactions, WalletTransactionsQuery } from "../schemas/wallet";
import { ledgerStub } from "../stubs";

/** Ledger micros as the wallet shows them: decimals of the currency. Display only; storage stays integer. */
export const toAmount = (micros: number) => micros / 1_000_000;

const noAccount = (customerId: string) => new ApiError(404, "ACCOUNT_NOT_FOUND", `account ${customerId} does not exist`);

/** A customer's wallet balance: what its Ledger holds is all available (no stakes, nothing pending at the Ledger). */
export async function walletBalance(env: Env, customerId: string): Promise<WalletBalance> {
  const balance = await ledgerStub(env, customerId).balance();
  if (!balance) throw noAccount(customerId);
  const available = toAmount(balance.balance_micros);
  return { address: customerId, balances: { available, staked: 0, pending: 0, total: available }, staking: null };
}

export async function walletTransactions(env: Env, customerId: string, q: WalletTransactionsQuery): Promise<WalletTransactions> {
  const page = await ledgerStub(env, customerId).entries(q);
  if (!page) throw noAccount(customerId);
  return { transactions: page.entries.map(toTransaction), total: page.total, limit: q.limit, offset: q.offset };
}

function toTransaction(e: LedgerEntry): WalletTransaction {
  const timestamp = new Date(e.at).toISOString();
  if (e.type === "reward") {
    return {
      id: `tx_reward_${e.id}`,
      type: "reward",
      amount: toAmount(e.amount_micros),
      timestamp,
      details: { proof_id: `${e.session_id}:${e.task_id}`, session_id: e.session_id, task_id: e.task_id, miner_id: e.miner_id, role: e.role, slot: e.slot },
    };
  }
  return {
    id: `tx_usage_${e.id}`,
    type: "usage",
    amount: toAmount(e.amount_micros),
    timestamp,
    details: { request_id: e.request_id, model: e.model, session_id: e.session_id, task_id: e.task_id },
  };
}
