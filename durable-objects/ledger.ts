import { z } from "zod";
import type { Vars } from "../domain/config/config";
import type { RegistryPort } from "../domain/objects/ports";
import { loadConfig } from "../domain/config/config";
import type { AccountStake } from "../domain/wallet/stake-weight";
import { hashKey, keyPrefix, newCustomerKey } from "../domain/gateway/keys";
import type { KeyState } from "../domain/gateway/key-state";
import { parseStoredScopes } from "../domain/gateway/key-scopes";
import type { Balance, CustomerCreate, KeyIssue, KeyPublic, KeyRotate, UsageRecord } from "../domain/gateway/schemas";
import { type MinerReward, rewardKey } from "../domain/rewards/miner-rewards";
import { ApiError, type ErrorDetails, type Failure } from "../domain/errors";
import { ledgerStub, registryStub } from "../domain/objects/stubs";
import { type CustomerRow, type KeyRow, LEDGER_MIGRATIONS, type LedgerEntry, type UsageInput, type UsageRow } from "./ledger-schema";
import { onlyRow, SqliteObject } from "./sqlite-object";
import { ADMIN_SOURCE, LEGACY_SOURCE, type SourceKind, sourceAccount } from "../domain/rewards/reward-sources";
import { isMicros, MAX_MICROS } from "../domain/wallet/safe-micros";
import { type AccountFigures, accountFigures, creditsBySource } from "./wallet/figures";
import { type Grant, type RewardIssue, type SourceFigures, Sources } from "./wallet/sources";
import { journal, journalEntry } from "./wallet/journal";
import { chargeKeyMove, keyMoveRefused } from "./wallet/key-moves";
import { type MinerEarnings, minerEarnings } from "./wallet/miner-earnings";
import { type SettleMiner, type Settled, settle, settlementsByAddress } from "./wallet/settlements";
import { type StakeRow, Stakes, unlockAt } from "./wallet/stakes";
import { type IncomingTransfer, type TransferRow, Transfers } from "./wallet/transfers";

/** A send as the wallet answers it; micros. */
export type TransferView = { id: string; from: string; to: string; amount_micros: number; fee_micros: number; memo: string; created_at: number; delivered: boolean };
export type SendInput = { to: string; amountMicros: number; feeMicros: number; memo: string; idempotencyKey: string | null; keyId: string };
/** An account's wallet: its three parts and its stake; micros. */
export type WalletState = { customer_id: string; available_micros: number; staked_micros: number; pending_micros: number; stake: StakeRow | null };

const AllowedModels = z.array(z.string());
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const fail = (status: 400 | 401 | 402 | 404 | 409, code: string, message: string, details?: ErrorDetails): Failure => new ApiError(status, code, message, details).toFailure();
const noCustomer = () => fail(404, "account_not_found", "this account does not exist");
/** The seed's INSUFFICIENT_BALANCE: `estimate_micros` and `balance_micros` become its `required` and `available` (neuroshard/errors.ts). */
const insufficient = (code: "insufficient_balance" | "insufficient_stake", required: number, available: number) =>
  fail(402, code, code === "insufficient_balance" ? "not enough available balance for this operation" : "not enough staked for this operation", {
    estimate_micros: required,
    balance_micros: available,
  });
/** A source's name (domain/rewards/reward-sources.ts): as a customer id, so `source:<name>` is never one. */
const SOURCE_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;
/** An account not yet in the registry's account directory is listed again this long after a failed try. */
const LIST_RETRY_MS = 5_000;

/** What a ledger reaches: other ledgers (transfers, sources), and the registry through its port (the registry imports this class). */
type LedgerEnv = Vars & { LEDGERS: DurableObjectNamespace<LedgerObject>; MINERS: DurableObjectNamespace<RegistryPort> };

/**
 * One per gateway customer: its API keys (hashes only), its balance and
 * spend, and its usage records. A gateway isolate reads a key's state here
 * (`keyState`) and keeps it for a few seconds (workers/gateway/key-cache.ts);
 * every request is billed here after its answer, in the isolate's batches
 * (`recordUsages`, which hands back the keys' fresh states; a parked record
 * comes back one at a time, `recordUsage`).
 */
export class LedgerObject extends SqliteObject<LedgerEnv> {
  private readonly transfers = new Transfers(this.sql);
  private readonly stakes = new Stakes(this.sql);
  private readonly sources = new Sources(this.sql);

  constructor(ctx: DurableObjectState, env: LedgerEnv) {
    super(ctx, env, LEDGER_MIGRATIONS);
    // An account that existed before the directory (or whose listing failed) is listed by the alarm.
    if (this.customerRow()?.listed_at === null) void ctx.blockConcurrencyWhile(async () => this.scheduleAlarm(Date.now()));
  }

  private keyRow(id: string): KeyRow {
    return onlyRow(this.sql<KeyRow>`SELECT * FROM keys WHERE id = ${id}`, `key ${id}`);
  }

  private customerRow(): CustomerRow | undefined {
    return this.sql<CustomerRow>`SELECT * FROM customer WHERE id = 1`[0];
  }

  private toPublic(r: KeyRow, customerId: string): KeyPublic {
    return {
      id: r.id,
      customer_id: customerId,
      name: r.name,
      prefix: r.prefix,
      allowed_models: AllowedModels.parse(JSON.parse(r.allowed_models)),
      requests_per_minute: r.requests_per_minute,
      tokens_per_minute: r.tokens_per_minute,
      spend_limit_micros: r.spend_limit_micros,
      spent_micros: r.spent_micros,
      scopes: parseStoredScopes(r.scopes),
      created_at: new Date(r.created_at).toISOString(),
      rotated_at: iso(r.rotated_at),
      revoked_at: iso(r.revoked_at),
    };
  }

  /**
   * Creates the customer, its opening balance a `credit` entry, and lists it
   * in the account directory. Rewards held for this account before it
   * existed (`creditRewards`) are credited in the same transaction.
   */
  async createCustomer(input: CustomerCreate): Promise<Balance | null> {
    // Nothing else runs here while the opening balance is issued by its source: one creation wins.
    const created = await this.exclusive(async () => {
      if (this.customerRow() || this.sources.current()) return false;
      const ref = `opening:${input.id}`;
      if (input.balance_micros > 0) await this.issuedByAdmin(ref, input.id, input.balance_micros);
      const now = Date.now();
      this.ctx.storage.transactionSync(() => {
        this.sql`INSERT INTO customer (id, customer_id, name, billing, balance_micros, created_at)
                 VALUES (1, ${input.id}, ${input.name}, ${input.billing}, ${this.heldMicros()}, ${now})`;
        this.sql`UPDATE rewards SET credited_at = ${now} WHERE credited_at IS NULL`;
        if (input.balance_micros > 0) {
          journal(this.sql, { type: "credit", ref, available_micros: input.balance_micros, counterparty: sourceAccount(ADMIN_SOURCE), memo: "opening balance", at: now });
        }
      });
      this.scheduleAlarm(now);
      return true;
    });
    if (!created) return null;
    await this.listInDirectory();
    return this.balance();
  }

  /**
   * Runs `fn` with no other event of this object in between, across its
   * awaits (a source's answer); an error comes back to the caller rather
   * than resetting the object, as blockConcurrencyWhile would.
   */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const outcome = await this.ctx.blockConcurrencyWhile(async () =>
      fn().then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
    );
    if ("error" in outcome) throw outcome.error;
    return outcome.value;
  }

  /** A customer's payment, issued by the admin source (its record comes first, so no account ever holds a credit its source did not issue). */
  private async issuedByAdmin(ref: string, customerId: string, amountMicros: number): Promise<void> {
    const issued = await ledgerStub(this.env, sourceAccount(ADMIN_SOURCE)).issuePayment(ADMIN_SOURCE, ref, customerId, amountMicros);
    if ("ok" in issued) throw ApiError.from(issued);
  }

  /** Rewards earned by a miner paying out here before this customer existed, not yet credited. */
  private heldMicros(): number {
    const n = this.sql<{ n: number | null }>`SELECT SUM(amount_micros) AS n FROM rewards WHERE credited_at IS NULL`[0]?.n ?? 0;
    // Each held reward is bounded by its source; their sum must still fit the exact range to become a balance.
    if (!isMicros(n)) throw new RangeError(`held rewards of ${n} micros are beyond the exact range`);
    return n;
  }

  /** Whether this customer exists (a send checks its recipient before debiting). */
  accountExists(): boolean {
    return this.customerRow() !== undefined;
  }

  balance(): Balance | null {
    const c = this.customerRow();
    return c ? { customer_id: c.customer_id, billing: c.billing, balance_micros: c.balance_micros, spent_micros: c.spent_micros } : null;
  }

  /**
   * A customer's payment (the admin's credit route): issued by the admin
   * source, then credited here once by its id. Refused (400 naming
   * `amount_micros`) when the balance would pass 2^53 − 1 micros, so that no
   * figure of this account is ever rounded.
   */
  async credit(amountMicros: number): Promise<Balance | Failure | null> {
    return this.exclusive(async () => {
      const c = this.customerRow();
      if (!c) return null;
      if (!isMicros(amountMicros) || amountMicros === 0 || amountMicros > MAX_MICROS - c.balance_micros) {
        const message = `must be at most ${MAX_MICROS - Math.max(0, c.balance_micros)}: the balance may not pass 2^53 - 1 micros`;
        return fail(400, "invalid_request", `invalid request: amount_micros: ${message}`, { issues: [{ field: "amount_micros", message }] });
      }
      const ref = `cr_${crypto.randomUUID().replaceAll("-", "")}`;
      await this.issuedByAdmin(ref, c.customer_id, amountMicros);
      this.ctx.storage.transactionSync(() =>
        journal(this.sql, { type: "credit", ref, available_micros: amountMicros, counterparty: sourceAccount(ADMIN_SOURCE), memo: "admin credit", at: Date.now() }),
      );
      return this.balance();
    });
  }

  /**
   * Credits miner rewards (domain/rewards/miner-rewards.ts), each once by its
   * (session, task, miner): a resent reward is acknowledged, not paid again.
   * Where this customer does not exist yet, they are held here (the miner's
   * payout account names a customer still to be created) and credited by
   * `createCustomer`. Answers how many were taken now, and whether held.
   */
  creditRewards(rewards: readonly MinerReward[]): { credited: number; held: boolean } | Failure {
    if (this.sources.current()) return fail(409, "source_account", "a source account takes no rewards");
    let room = MAX_MICROS - Math.max(0, this.customerRow()?.balance_micros ?? this.heldMicros());
    for (const r of rewards) {
      // Each names the source that issued it (the conservation check matches them); amounts are exact, and the balance stays exact.
      if (!SOURCE_NAME.test(r.source) || r.source === LEGACY_SOURCE) return fail(400, "invalid_reward", `reward ${rewardKey(r)}: no such source ${r.source}`, { field: "source" });
      if (!isMicros(r.amountMicros) || r.amountMicros === 0 || r.amountMicros > room) {
        return fail(400, "invalid_reward", `reward ${rewardKey(r)}: ${r.amountMicros} is not 1…${room} micros (the balance may not pass 2^53 - 1)`, { field: "amount_micros" });
      }
      room -= r.amountMicros;
    }
    const held = !this.customerRow();
    const now = Date.now();
    const credited = this.ctx.storage.transactionSync(() => {
      let n = 0;
      for (const r of rewards) {
        const inserted = this.sql`INSERT INTO rewards (reward_key, session_id, task_id, miner_id, amount_micros, role, slot, at, credited_at, source)
                 VALUES (${rewardKey(r)}, ${r.sessionId}, ${r.taskId}, ${r.minerId}, ${r.amountMicros}, ${r.role}, ${r.slot}, ${now}, ${held ? null : now}, ${r.source})
                 ON CONFLICT (reward_key) DO NOTHING RETURNING id`;
        if (inserted.length === 0) continue;
        if (!held) this.sql`UPDATE customer SET balance_micros = balance_micros + ${r.amountMicros} WHERE id = 1`;
        n++;
      }
      return n;
    });
    return { credited, held };
  }

  /**
   * As a source account (`source:<name>`, domain/rewards/reward-sources.ts):
   * grants rewards within their tasks' funds and, for an emission pool, its
   * day's budget (MINER_EMISSION_BUDGET_MICROS where a reward carries none),
   * each once by its key: a resend gets the first grant again.
   */
  issueRewards(name: string, kind: SourceKind, issues: readonly RewardIssue[]): Grant[] | Failure {
    const refused = this.notThisSource(name, kind);
    if (refused) return refused;
    const now = Date.now();
    const budget = loadConfig(this.env).rewards.emission.budgetMicros;
    return this.ctx.storage.transactionSync(() => {
      this.sources.declare(name, kind, now);
      return this.sources.issueRewards(issues, budget, now);
    });
  }

  /** Why this Ledger cannot act as source `name` of `kind`: a customer's, or another source's; undefined when it can. */
  private notThisSource(name: string, kind: SourceKind): Failure | undefined {
    if (this.customerRow()) return fail(409, "not_a_source", "a customer account issues nothing");
    const s = this.sources.current();
    if (s && (s.name !== name || s.kind !== kind)) return fail(409, "not_a_source", `this source account is ${s.name} (${s.kind}), not ${name} (${kind})`);
    return undefined;
  }

  /** As the admin source: records a customer's payment to `account`, once by `key`. */
  issuePayment(name: string, key: string, account: string, amountMicros: number): { issued: boolean } | Failure {
    const refused = this.notThisSource(name, "payment");
    if (refused) return refused;
    if (!isMicros(amountMicros) || amountMicros === 0) return fail(400, "invalid_request", "amount_micros must be 1…2^53-1", { field: "amount_micros" });
    const now = Date.now();
    return this.ctx.storage.transactionSync(() => {
      this.sources.declare(name, "payment", now);
      return { issued: this.sources.issuePayment(key, account, amountMicros, now) };
    });
  }

  /** As a source account: what it issued, to whom, and what backs it; null when this Ledger is no source. */
  sourceFigures(now: number = Date.now()): SourceFigures | null {
    return this.sources.figures(now);
  }

  /**
   * The account's entries, newest first: rewards credited, usage charged
   * and the journal (credits, sends, receipts, stakes, unstakes, releases,
   * slashes), paged by limit and offset; null when this customer does not
   * exist. Unstakes whose cooldown is over are released first.
   */
  entries(q: { limit: number; offset: number }, now = Date.now()): { entries: LedgerEntry[]; total: number } | null {
    if (!this.customerRow()) return null;
    this.releaseDue(now);
    const entries = this.sql<LedgerEntry>`
      SELECT 'reward' AS type, id, amount_micros, at, session_id, task_id, miner_id, role, slot, NULL AS request_id, NULL AS model,
             0 AS staked_micros, 0 AS pending_micros, NULL AS ref, NULL AS counterparty, NULL AS memo, NULL AS details FROM rewards WHERE credited_at IS NOT NULL
      UNION ALL
      SELECT 'usage' AS type, id, -cost_micros AS amount_micros, at, session_id, task_id, NULL AS miner_id, NULL AS role, NULL AS slot, request_id, model,
             0, 0, NULL, NULL, NULL, NULL FROM usage WHERE cost_micros > 0
      UNION ALL
      SELECT type, id, available_micros AS amount_micros, at, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
             staked_micros, pending_micros, ref, counterparty, memo, details FROM journal
      ORDER BY at DESC, type DESC, id DESC LIMIT ${q.limit} OFFSET ${q.offset}`;
    const total =
      this.sql<{
        n: number;
      }>`SELECT (SELECT COUNT(*) FROM rewards WHERE credited_at IS NOT NULL) + (SELECT COUNT(*) FROM usage WHERE cost_micros > 0) + (SELECT COUNT(*) FROM journal) AS n`[0]?.n ?? 0;
    return { entries, total };
  }

  /** The account's wallet as of `now` (unstakes whose cooldown is over released first); null when this customer does not exist. */
  wallet(now: number): WalletState | null {
    const c = this.customerRow();
    if (!c) return null;
    this.releaseDue(now);
    return this.walletOf(c.customer_id);
  }

  private walletOf(customerId: string): WalletState {
    const available = this.customerRow()?.balance_micros ?? 0;
    const stake = this.stakes.current() ?? null;
    return { customer_id: customerId, available_micros: available, staked_micros: stake?.amount_micros ?? 0, pending_micros: this.stakes.pendingMicros(), stake };
  }

  private releaseDue(now: number): void {
    this.ctx.storage.transactionSync(() => this.stakes.releaseDue(now));
  }

  /**
   * Sends `amountMicros` to another account, paying `feeMicros` (burned).
   * The debit and the outgoing transfer are one storage transaction, checked
   * against the available balance inside it (so concurrent sends never
   * overdraw); delivery to the recipient's Ledger follows at once and, if it
   * fails, by this object's alarm until it lands (credited there once by the
   * transfer id). With an idempotency key, a send seen before answers that
   * send (`replayed`) and moves nothing; the same key with another request is
   * a 409. A refused send keeps no key. The key it is made with must hold
   * `wallet:move`, and amount and fee count against its spend limit (wallet/key-moves.ts).
   */
  async send(input: SendInput, now: number): Promise<{ ok: true; transfer: TransferView; replayed: boolean } | Failure> {
    const c = this.customerRow();
    if (!c) return noCustomer();
    const seen = () => (input.idempotencyKey === null ? undefined : this.transfers.byKey(input.idempotencyKey));
    const before = seen();
    if (before) return this.replay(before, input, c.customer_id);
    if (input.to === c.customer_id)
      return fail(400, "invalid_request", "invalid request: to: cannot send to the same account", { issues: [{ field: "to", message: "cannot send to the same account" }] });
    // Checked before anything moves. Accounts are never deleted, so it still exists at delivery.
    if (!(await ledgerStub(this.env, input.to).accountExists())) {
      return fail(404, "account_not_found", `account ${input.to} does not exist`, { field: "to" });
    }
    // Other requests ran while the recipient was asked: the key and the balance are checked again, inside the transaction.
    const outcome = this.ctx.storage.transactionSync((): { row: TransferRow; raced: boolean } | Failure => {
      const raced = seen();
      if (raced) return { row: raced, raced: true };
      this.stakes.releaseDue(now);
      const required = input.amountMicros + input.feeMicros;
      const refused = keyMoveRefused(this.sql, input.keyId, required);
      if (refused) return refused;
      const available = this.customerRow()?.balance_micros ?? 0;
      if (required > available) return insufficient("insufficient_balance", required, available);
      chargeKeyMove(this.sql, input.keyId, required);
      const id = `tx_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
      this.transfers.record({
        id,
        idempotency_key: input.idempotencyKey,
        to_account: input.to,
        amount_micros: input.amountMicros,
        fee_micros: input.feeMicros,
        memo: input.memo,
        created_at: now,
      });
      return { row: onlyRow(this.sql<TransferRow>`SELECT * FROM transfers_out WHERE id = ${id}`, `transfer ${id}`), raced: false };
    });
    if ("ok" in outcome) return outcome;
    if (outcome.raced) return this.replay(outcome.row, input, c.customer_id);
    // In the same turn as the debit: a crash before the delivery below leaves the alarm to make it.
    this.scheduleAlarm(now);
    await this.deliver(outcome.row, c.customer_id, Date.now());
    return { ok: true, transfer: this.transferView(outcome.row.id, c.customer_id), replayed: false };
  }

  private async replay(t: TransferRow, input: SendInput, from: string): Promise<{ ok: true; transfer: TransferView; replayed: boolean } | Failure> {
    if (t.to_account !== input.to || t.amount_micros !== input.amountMicros || t.memo !== input.memo) {
      return fail(409, "idempotency_conflict", "this Idempotency-Key was used for a different send", { transaction_id: t.id });
    }
    if (t.delivered_at === null) await this.deliver(t, from, Date.now());
    return { ok: true, transfer: this.transferView(t.id, from), replayed: true };
  }

  private transferView(id: string, from: string): TransferView {
    const t = onlyRow(this.sql<TransferRow>`SELECT * FROM transfers_out WHERE id = ${id}`, `transfer ${id}`);
    return {
      id: t.id,
      from,
      to: t.to_account,
      amount_micros: t.amount_micros,
      fee_micros: t.fee_micros,
      memo: t.memo,
      created_at: t.created_at,
      delivered: t.delivered_at !== null,
    };
  }

  /** One delivery attempt: acknowledged → delivered; refused or failed → tried again by the alarm, later each time. */
  private async deliver(t: TransferRow, from: string, now: number): Promise<boolean> {
    const incoming: IncomingTransfer = { id: t.id, from, amountMicros: t.amount_micros, memo: t.memo, at: t.created_at };
    try {
      if ((await ledgerStub(this.env, t.to_account).receiveTransfer(incoming)) !== null) {
        this.transfers.delivered(t.id, now);
        this.scheduleAlarm(now);
        return true;
      }
      console.error(JSON.stringify({ event: "transfer_undeliverable", transfer: t.id, to: t.to_account, reason: "recipient does not exist" }));
    } catch (err) {
      console.error(JSON.stringify({ event: "transfer_delivery_failed", transfer: t.id, to: t.to_account, error: String(err) }));
    }
    this.transfers.failed(t.id, now);
    this.scheduleAlarm(now);
    return false;
  }

  /**
   * Credits a transfer from another account, once by its id: a delivery
   * seen before is acknowledged and credits nothing. Answers whether it
   * credited now; null when this customer does not exist.
   */
  receiveTransfer(t: IncomingTransfer): { credited: boolean } | null {
    const c = this.customerRow();
    if (!c) return null;
    // A credit that would take the balance past 2^53 − 1 waits in flight (the sender's alarm retries), exact, until there is room.
    if (journalEntry(this.sql, "receive", t.id)) return { credited: false };
    if (!isMicros(t.amountMicros) || t.amountMicros > MAX_MICROS - Math.max(0, c.balance_micros)) {
      console.error(JSON.stringify({ event: "transfer_refused", transfer: t.id, reason: "the balance would pass 2^53 - 1 micros" }));
      return null;
    }
    return { credited: this.ctx.storage.transactionSync(() => Transfers.receive(this.sql, t, Date.now())) };
  }

  /**
   * Stakes `amountMicros` of the available balance for `durationDays` at
   * `multiplierBps` (the caller's tier for that duration). Staking again
   * adds to the stake and locks all of it anew from `now`, which may not
   * end before the current unlock date (409 stake_locked). The key must
   * hold `wallet:move`; the amount counts against its spend limit.
   */
  stake(input: { amountMicros: number; durationDays: number; multiplierBps: number; keyId: string }, now: number): { ok: true; stake: StakeRow; wallet: WalletState } | Failure {
    const c = this.customerRow();
    if (!c) return noCustomer();
    const outcome = this.ctx.storage.transactionSync((): StakeRow | Failure => {
      const refused = keyMoveRefused(this.sql, input.keyId, input.amountMicros);
      if (refused) return refused;
      this.stakes.releaseDue(now);
      const current = this.stakes.current();
      if (current && unlockAt(now, input.durationDays) < current.unlock_at) {
        return fail(409, "stake_locked", "a new stake locks the whole stake again and may not end before its current unlock date", {
          field: "duration_days",
          unlock_date: new Date(current.unlock_at).toISOString(),
        });
      }
      const available = this.customerRow()?.balance_micros ?? 0;
      if (input.amountMicros > available) return insufficient("insufficient_balance", input.amountMicros, available);
      chargeKeyMove(this.sql, input.keyId, input.amountMicros);
      return this.stakes.stake(input.amountMicros, input.durationDays, input.multiplierBps, now);
    });
    if ("ok" in outcome) return outcome;
    this.pushStakeMultiplier(c.customer_id, now);
    return { ok: true, stake: outcome, wallet: this.walletOf(c.customer_id) };
  }

  /**
   * Starts the cooldown of `amountMicros` of the stake, once its unlock
   * date has passed (before it: 409 stake_locked); it returns to the
   * available balance `cooldownMs` later.
   */
  unstake(input: { amountMicros: number; cooldownMs: number; keyId: string }, now: number): { ok: true; amount_micros: number; available_at: number } | Failure {
    if (!this.customerRow()) return noCustomer();
    const outcome = this.ctx.storage.transactionSync((): { availableAt: number } | Failure => {
      const refused = keyMoveRefused(this.sql, input.keyId, 0);
      if (refused) return refused;
      this.stakes.releaseDue(now);
      const current = this.stakes.current();
      const staked = current?.amount_micros ?? 0;
      if (!current || input.amountMicros > staked) return insufficient("insufficient_stake", input.amountMicros, staked);
      if (now < current.unlock_at) {
        return fail(409, "stake_locked", `the stake is locked until ${new Date(current.unlock_at).toISOString()}`, { unlock_date: new Date(current.unlock_at).toISOString() });
      }
      return this.stakes.unstake(input.amountMicros, input.cooldownMs, now);
    });
    if ("ok" in outcome) return outcome;
    this.scheduleAlarm(now);
    return { ok: true, amount_micros: input.amountMicros, available_at: outcome.availableAt };
  }

  /**
   * The account's stake as selection weighs it at `now`: the locked amount
   * and its tier while the stake is locked, nothing with no stake or once
   * the unlock date has passed (an unlocked stake can leave at any time).
   * The registry divides it among the account's miners (domain/wallet/stake-weight.ts).
   */
  lockedStake(now: number = Date.now()): AccountStake {
    const s = this.stakes.current();
    return s && s.amount_micros > 0 && now < s.unlock_at ? { stakedMicros: s.amount_micros, tierBps: s.multiplier_bps } : { stakedMicros: 0, tierBps: 0 };
  }

  /**
   * Removes `shareBps` / 10000 of the stake, at least MINER_SLASH_MIN_MICROS
   * (capped by the stake), once per `key` (a key seen before answers what it
   * took then, `replayed`), as a `slash` entry. Null when this customer does
   * not exist.
   */
  slash(key: string, shareBps: number, now: number = Date.now()): { slashed_micros: number; staked_micros: number; replayed: boolean } | null {
    if (!this.customerRow()) return null;
    if (!Number.isInteger(shareBps) || shareBps < 0 || shareBps > 10_000) throw new RangeError(`shareBps must be an integer 0-10000, got ${shareBps}`);
    const minMicros = loadConfig(this.env).stakeWeight.slashMinMicros;
    const { slashedMicros, replayed } = this.ctx.storage.transactionSync(() => this.stakes.slash(key, shareBps, minMicros, now));
    return { slashed_micros: slashedMicros, staked_micros: this.stakes.current()?.amount_micros ?? 0, replayed };
  }

  /**
   * Tells the registry the new multiplier at once, so a new stake counts in
   * selection from the sessions' next snapshot. Best effort: the registry's
   * periodic refresh reads it anyway.
   */
  private pushStakeMultiplier(customerId: string, now: number): void {
    const stake = this.lockedStake(now);
    this.ctx.waitUntil(
      registryStub(this.env)
        .setAccountStake(customerId, stake)
        .catch((err: unknown) => console.error(JSON.stringify({ event: "stake_multiplier_push_failed", customer: customerId, error: String(err) }))),
    );
  }

  /** The account's figures for the conservation check; null when this customer does not exist. */
  figures(): (AccountFigures & { customer_id: string; by_source: Record<string, number>; settlements: { distributor: string; address: string; micros: number }[] }) | null {
    const c = this.customerRow();
    const f = accountFigures(this.sql);
    return c && f ? { customer_id: c.customer_id, ...f, by_source: creditsBySource(this.sql), settlements: settlementsByAddress(this.sql) } : null;
  }

  /**
   * Moves the miners' unsettled earnings out of this payout account to the
   * RewardDistributor `distributor`, for its round `round`, as far as the
   * available balance goes (wallet/settlements.ts): once by (distributor,
   * round, miner), so a round asked again (a lost answer, a retried seal)
   * answers what it moved then and debits nothing more. The rewards
   * instance posts exactly these amounts (durable-objects/chain-index/reward-close.ts).
   * Null when this customer does not exist (its rewards are held, not earned).
   */
  settleEarnings(distributor: string, round: number, miners: readonly SettleMiner[], now: number = Date.now()): Settled[] | null {
    if (!this.customerRow()) return null;
    if (!Number.isSafeInteger(round) || round < 1) throw new RangeError(`round must be a positive integer, got ${round}`);
    return this.ctx.storage.transactionSync(() => settle(this.sql, distributor, round, miners, now));
  }

  /**
   * What each miner paying out here earned (rewards credited, and held for a
   * customer not created yet) and had slashed from this account's stake.
   * Answers whether the customer exists too, since held rewards need none.
   */
  minerEarnings(): { exists: boolean; miners: MinerEarnings[] } {
    return { exists: this.customerRow() !== undefined, miners: minerEarnings(this.sql) };
  }

  /** Delivers due transfers, releases ended cooldowns and lists an unlisted account; then waits for the next of them. */
  override async alarm(): Promise<void> {
    const c = this.customerRow();
    if (!c) return;
    const now = Date.now();
    this.releaseDue(now);
    for (const t of this.transfers.undelivered(now)) await this.deliver(t, c.customer_id, now);
    if (this.customerRow()?.listed_at === null) await this.listInDirectory();
    this.scheduleAlarm(Date.now());
  }

  /** Sets the alarm to the earliest work due (from the tables, so that it is right whatever was set before); clears it with none. */
  private scheduleAlarm(now: number): void {
    const c = this.customerRow();
    const due = [this.transfers.dueAt(), this.stakes.dueAt(), c && c.listed_at === null ? now + LIST_RETRY_MS : null].filter((at): at is number => at !== null);
    if (due.length === 0) void this.ctx.storage.deleteAlarm();
    else void this.ctx.storage.setAlarm(Math.min(...due));
  }

  private async listInDirectory(): Promise<void> {
    const c = this.customerRow();
    if (!c || c.listed_at !== null) return;
    try {
      await registryStub(this.env).listAccount({ id: c.customer_id, name: c.name, billing: c.billing, created_at: new Date(c.created_at).toISOString() });
      this.sql`UPDATE customer SET listed_at = ${Date.now()} WHERE id = 1`;
      this.scheduleAlarm(Date.now());
    } catch (err) {
      console.error(JSON.stringify({ event: "account_listing_failed", customer: c.customer_id, error: String(err) }));
    }
  }

  /** Issues a key; the plaintext is returned here and never again. */
  async issueKey(spec: KeyIssue, options: { secret?: string } = {}): Promise<{ key: string; record: KeyPublic } | null> {
    const c = this.customerRow();
    if (!c) return null;
    const key = options.secret ?? newCustomerKey(c.customer_id);
    const id = `key_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    this.sql`INSERT INTO keys (id, key_hash, name, prefix, allowed_models, requests_per_minute, tokens_per_minute, spend_limit_micros, scopes, created_at)
             VALUES (${id}, ${await hashKey(key)}, ${spec.name}, ${keyPrefix(key)}, ${JSON.stringify(spec.allowed_models)},
                     ${spec.requests_per_minute}, ${spec.tokens_per_minute}, ${spec.spend_limit_micros}, ${JSON.stringify(spec.scopes)}, ${Date.now()})`;
    return { key, record: this.toPublic(this.keyRow(id), c.customer_id) };
  }

  listKeys(): KeyPublic[] | null {
    const c = this.customerRow();
    if (!c) return null;
    return this.sql<KeyRow>`SELECT * FROM keys ORDER BY created_at`.map((r) => this.toPublic(r, c.customer_id));
  }

  /** A new secret for the same key (limits and history kept; scopes too, unless given); the old secret stops working at once. */
  async rotateKey(keyId: string, change: KeyRotate = {}): Promise<{ key: string; record: KeyPublic } | null> {
    const c = this.customerRow();
    const row = this.sql<KeyRow>`SELECT * FROM keys WHERE id = ${keyId} AND revoked_at IS NULL`[0];
    if (!c || !row) return null;
    const key = newCustomerKey(c.customer_id);
    const scopes = change.scopes ? JSON.stringify(change.scopes) : row.scopes;
    this.sql`UPDATE keys SET key_hash = ${await hashKey(key)}, prefix = ${keyPrefix(key)}, scopes = ${scopes}, rotated_at = ${Date.now()} WHERE id = ${keyId}`;
    return { key, record: this.toPublic(this.keyRow(keyId), c.customer_id) };
  }

  revokeKey(keyId: string): KeyPublic | null {
    const c = this.customerRow();
    if (!c || this.sql`SELECT 1 AS one FROM keys WHERE id = ${keyId}`.length === 0) return null;
    this.sql`UPDATE keys SET revoked_at = COALESCE(revoked_at, ${Date.now()}) WHERE id = ${keyId}`;
    return this.toPublic(this.keyRow(keyId), c.customer_id);
  }

  /** A key's state, for admission: 401 when unknown or revoked. */
  keyState(keyHash: string): KeyState | Failure {
    const c = this.customerRow();
    const row = c ? this.sql<KeyRow>`SELECT * FROM keys WHERE key_hash = ${keyHash}`[0] : undefined;
    if (!c || !row) return fail(401, "invalid_api_key", "invalid API key");
    if (row.revoked_at !== null) return fail(401, "invalid_api_key", "this API key has been revoked");
    return this.stateOf(row, c);
  }

  private stateOf(row: KeyRow, c: CustomerRow): KeyState {
    const version = this.sql<{ v: number | null }>`SELECT MAX(id) AS v FROM usage`[0]?.v ?? 0;
    return {
      version,
      key: {
        id: row.id,
        customerId: c.customer_id,
        allowedModels: AllowedModels.parse(JSON.parse(row.allowed_models)),
        requestsPerMinute: row.requests_per_minute,
        tokensPerMinute: row.tokens_per_minute,
        spendLimitMicros: row.spend_limit_micros,
        spentMicros: row.spent_micros,
        scopes: parseStoredScopes(row.scopes),
      },
      customer: { billing: c.billing, balanceMicros: c.balance_micros },
    };
  }

  /**
   * Records a request's usage and bills it, once per request id. The work was
   * done, so it is billed even past a spend limit or balance (by at most what
   * the gateway's cache allows, see README "Usage and billing"); the key's
   * state comes back (null once revoked) so the isolate sees the charge.
   */
  recordUsage(u: UsageInput): { billed: boolean; record: UsageRecord; state: KeyState | null } {
    const billed = this.ctx.storage.transactionSync(() => this.bill(u, Date.now()));
    const record = toRecord(onlyRow(this.sql<UsageRow>`SELECT * FROM usage WHERE request_id = ${u.request_id}`, `usage ${u.request_id}`));
    return { billed, record, state: this.stateOfKey(u.key_id) };
  }

  /**
   * A gateway isolate's batch of usage records (workers/gateway/usage-batches.ts),
   * in one storage turn: each billed once per request id as `recordUsage`
   * bills it. Answers the request ids billed now (the others were billed
   * before) and the fresh state of each key in the batch (null once revoked).
   */
  recordUsages(us: readonly UsageInput[]): { billed: string[]; states: Record<string, KeyState | null> } {
    const now = Date.now();
    const billed = this.ctx.storage.transactionSync(() => us.filter((u) => this.bill(u, now)).map((u) => u.request_id));
    const states: Record<string, KeyState | null> = {};
    for (const keyId of new Set(us.map((u) => u.key_id))) states[keyId] = this.stateOfKey(keyId);
    return { billed, states };
  }

  /** Inserts the record and charges key and customer, unless its request id was billed before (then false). */
  private bill(input: UsageInput, now: number): boolean {
    const u = { ...input, cost_micros: this.chargeable(input.cost_micros, input.key_id) };
    const inserted = this
      .sql`INSERT INTO usage (request_id, key_id, model, router_pool, session_id, task_id, prompt_tokens, completion_tokens, latency_ms, status, error_code, cost_micros, at)
             VALUES (${u.request_id}, ${u.key_id}, ${u.model}, ${u.router_pool}, ${u.session_id}, ${u.task_id}, ${u.prompt_tokens}, ${u.completion_tokens},
                     ${u.latency_ms}, ${u.status}, ${u.error_code}, ${u.cost_micros}, ${now})
             ON CONFLICT (request_id) DO NOTHING RETURNING id`;
    if (inserted.length === 0) return false;
    if (u.cost_micros > 0) {
      this.sql`UPDATE keys SET spent_micros = spent_micros + ${u.cost_micros} WHERE id = ${u.key_id}`;
      this.sql`UPDATE customer SET spent_micros = spent_micros + ${u.cost_micros},
                 balance_micros = CASE WHEN billing = 'prepaid' THEN balance_micros - ${u.cost_micros} ELSE balance_micros END WHERE id = 1`;
    }
    return true;
  }

  /**
   * What a charge can be and keep every figure exact: at most what leaves
   * the key's and the customer's spend, and a prepaid balance, within
   * ±(2^53 − 1) micros. A cost past that (a usage count no request can
   * reach) is billed at this bound, recorded as billed, never rounded.
   */
  private chargeable(costMicros: number, keyId: string): number {
    const c = this.customerRow();
    if (!c || !Number.isFinite(costMicros) || costMicros <= 0) return 0;
    const keySpent = this.sql<{ n: number }>`SELECT spent_micros AS n FROM keys WHERE id = ${keyId}`[0]?.n ?? 0;
    const room = [MAX_MICROS - c.spent_micros, MAX_MICROS - keySpent, c.billing === "prepaid" ? MAX_MICROS + c.balance_micros : MAX_MICROS];
    return Math.max(0, Math.min(Math.floor(costMicros), ...room));
  }

  private stateOfKey(keyId: string): KeyState | null {
    const c = this.customerRow();
    const row = this.sql<KeyRow>`SELECT * FROM keys WHERE id = ${keyId} AND revoked_at IS NULL`[0];
    return c && row ? this.stateOf(row, c) : null;
  }

  /** Usage records, newest first, optionally within [from, to), paged by `before` (an id). */
  usage(q: { from?: number; to?: number; limit: number; before?: number }): UsageRecord[] | null {
    if (!this.customerRow()) return null;
    const rows = this.sql<UsageRow>`
      SELECT * FROM usage WHERE at >= ${q.from ?? 0} AND at < ${q.to ?? Number.MAX_SAFE_INTEGER} AND id < ${q.before ?? Number.MAX_SAFE_INTEGER}
      ORDER BY id DESC LIMIT ${q.limit}`;
    return rows.map(toRecord);
  }
}

function toRecord(r: UsageRow): UsageRecord {
  return { ...r, at: new Date(r.at).toISOString() };
}
