import type { WalletState } from "../../durable-objects/ledger";
import type { LedgerEntry } from "../../durable-objects/ledger-schema";
import { DAY_MS, type StakeRow } from "../../durable-objects/wallet/stakes";
import { loadConfig } from "../../domain/config/config";
import type { Env } from "../env";
import { ApiError, fieldError } from "../../domain/errors";
import { getAddress } from "viem";
import type {
  Staking,
  WalletAddress,
  WalletAddressRegister,
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
import { ledgerStub, registryStub } from "../../domain/objects/stubs";
import { routerSigner } from "../../domain/receipts/router-signer";
import { accountAddressProofMessage, accountAddressProven, isEvmAddress } from "../wallet/account-address-proof";
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

/**
 * The account a send's `to` reaches: a customer id as it is; an EVM address
 * through the registry (the payout account of the miner registered with it,
 * else the customer that proved it for its account). An address nobody
 * registered, or a miner's without a payout account, reaches no one: 404
 * naming `to`, nothing moved, no account made for it.
 */
export async function recipientAccount(env: Env, to: string): Promise<string> {
  if (!isEvmAddress(to)) return to;
  const held = await registryStub(env).accountForAddress(to);
  if (!held) throw new ApiError(404, "account_not_found", `to: no miner or account is registered with address ${to}`, { field: "to" });
  if (held.account === null) throw new ApiError(404, "account_not_found", `to: the miner registered with address ${to} has no payout account`, { field: "to" });
  return held.account;
}

/** Sends to another account: the sender's Ledger debits and delivers (see LedgerObject.send). */
export async function walletSend(env: Env, by: WalletKey, body: WalletSend, idempotencyKey: string | null): Promise<{ sent: WalletSent; replayed: boolean }> {
  const from = by.customerId;
  const to = await recipientAccount(env, body.to);
  if (to === from) throw fieldError("to", body.to === to ? "cannot send to the same account" : `${body.to} is this account's own address`);
  const result = await ledgerStub(env, from).send(
    { to, amountMicros: body.amount, feeMicros: loadConfig(env).wallet.sendFeeMicros, memo: body.memo, idempotencyKey, keyId: by.keyId },
    Date.now(),
  );
  if (!result.ok) throw ApiError.from(result);
  const t = result.transfer;
  return {
    sent: {
      transaction_id: t.id,
      from: t.from,
      to: body.to,
      to_account: t.to,
      amount: toAmount(t.amount_micros),
      fee: toAmount(t.fee_micros),
      memo: t.memo,
      status: t.delivered ? "confirmed" : "pending",
      timestamp: new Date(t.created_at).toISOString(),
    },
    replayed: result.replayed,
  };
}

/** The single-use challenge an address's key signs to be reached as the key's account (open as long as a miner's, see MinerRegistry.issueChallenge). */
export async function walletAddressChallenge(env: Env, account: string, address: string) {
  const router = routerSigner(loadConfig(env).signerKey).address;
  const challenge = await registryStub(env).issueChallenge();
  return {
    nonce: challenge.nonce,
    message: accountAddressProofMessage({ router, account, address, nonce: challenge.nonce, issuedAt: challenge.issuedAt }),
    router,
    account,
    address: getAddress(address),
    issued_at: new Date(challenge.issuedAt).toISOString(),
    expires_at: new Date(challenge.expiresAt).toISOString(),
  };
}

const badProof = (field: "nonce" | "signature", message: string) => fieldError(field, message);

/**
 * Registers an address for the key's account once its key has signed this
 * router's challenge naming the account: from then on a send to the address
 * reaches the account. Refused (409 `ADDRESS_TAKEN`, naming `address`) when a
 * miner or another account holds it; a claim without a valid signature
 * registers nothing, so nobody captures another's transfers by naming
 * their address.
 */
export async function walletRegisterAddress(env: Env, account: string, body: WalletAddressRegister): Promise<WalletAddress> {
  const registry = registryStub(env);
  const challenge = await registry.openChallenge(body.nonce);
  if (!challenge) throw badProof("nonce", "unknown, used or expired challenge");
  const router = routerSigner(loadConfig(env).signerKey).address;
  if (!(await accountAddressProven({ router, account, address: body.address, nonce: challenge.nonce, issuedAt: challenge.issuedAt }, body.signature))) {
    throw badProof("signature", "not the address's signature over this router's challenge for this account");
  }
  const registered = await registry.registerAccountAddress({ address: body.address, customerId: account, nonce: challenge.nonce });
  if ("refused" in registered) {
    if (registered.refused === "challenge_used") throw badProof("nonce", "unknown, used or expired challenge");
    throw new ApiError(409, "address_taken", "address: a miner or another account holds this address", { field: "address", issues: [{ field: "address", message: "taken" }] });
  }
  const addresses = await registry.accountAddresses(account);
  return { account, address: getAddress(registered.address), registered_at: new Date(registered.registered_at).toISOString(), addresses: addresses.map((a) => getAddress(a)) };
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
    case "settle": {
      const d = detailsOf(e.details);
      const text = (v: string | number | null | undefined) => (typeof v === "string" ? v : "");
      return {
        id: `tx_settle_${e.id}`,
        type: "settle",
        amount,
        timestamp,
        details: { distributor: text(d["distributor"]), address: text(d["address"]), miner_id: text(d["miner_id"]), round: num(d["round"]) },
      };
    }
  }
}
