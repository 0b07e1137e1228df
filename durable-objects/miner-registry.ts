import { z } from "zod";
import type { Vars } from "../domain/config/config";
import type { LedgerObject } from "./ledger";
import type { RegistryPort } from "../domain/objects/ports";
import { loadConfig } from "../domain/config/config";
import { open, seal } from "../domain/crypto/secret-box";
import { probeMiner } from "../domain/miners/call-miner";
import { nextReputation } from "../domain/miners/select-miners";
import { ledgerStub } from "../domain/objects/stubs";
import type { MinerCandidate } from "../domain/miners/miner-pool";
import type { MinerProtocol, MinerPublic, MinerRegister, MinerUpdate } from "../domain/schemas/miner";
import { NeuroShardNodeReportSchema, NeuroShardTrainingReportSchema } from "../domain/schemas/neuroshard";
import type { CustomerEntry } from "../domain/gateway/schemas";
import { type AccountStake, minerStakeMultiplier } from "../domain/wallet/stake-weight";
import { remainingAfter } from "../domain/miners/probation";
import { readRunTimeSettings, type RunTimeSettings, writeRunTimeSettings } from "./run-time-settings";
import { type MinerRow, REGISTRY_MIGRATIONS, type StakeColumns } from "./registry-schema";
import { SqliteObject } from "./sqlite-object";
import { sixAtATime } from "../domain/net/six-at-a-time";
import { addActivityBatch, readActivity } from "./activity-days";
import type { ActivityBatch, ActivityCounts } from "../domain/schemas/activity";
import { type AddressHolder, joinEffect } from "../domain/miners/join-admission";
import type { MinerBan } from "../domain/schemas/miner-join";
import { type AccountAddressRefusal, type AddressAccount, accountAddresses, addressAccount, customerHoldingAddress, registerAccountAddress } from "./wallet-addresses";

const CREDENTIAL_PURPOSE = "miner-credential/v1";
/**
 * Consecutive miner faults after which the registry probes the miner at once
 * (instead of waiting for the cron). Only a failed probe benches: a client
 * can make every miner fail its own tasks (a prompt that crashes them, a
 * request too big for its deadline) but cannot make a healthy miner fail its
 * health check.
 */
const FAULTS_BEFORE_PROBE = 3;
/** A miner is probed on its faults at most this often; the cron health check probes regardless. */
const PROBE_INTERVAL_MS = 30_000;
const PROBE_TIMEOUT_MS = 5_000;
const INITIAL_REPUTATION = 0.8;
/** How long a batch id is remembered, so a session retrying an unanswered flush is counted once (far beyond any retry). */
const BATCH_MEMORY_MS = 24 * 60 * 60 * 1000;
/** A session's reported load counts this long after its last flush (a session that went quiet has nothing in flight). */
const LOAD_TTL_MS = 30_000;

/** How long a registration challenge may be answered (and is remembered once used, so a replay is told apart). */
const CHALLENGE_TTL_MS = 10 * 60 * 1000;

/** A miner's payout account and its stake multiplier as selection uses it; `multiplier_refreshed_at` (ms) null: never read. */
export type MinerPayout = { miner_id: string; name: string; payout_account: string | null; stake_multiplier: number; multiplier_refreshed_at: number | null };

/** Why a registration or update was refused: the id or the address is another miner's, or the challenge was answered already. */
export type MinerRefusal = { refused: "id_taken" | "address_taken" | "challenge_used" };
/** A registration challenge as the registry issued it (ms). */
export type AddressChallenge = { nonce: string; issuedAt: number; expiresAt: number };

/** A miner's self-join as the join route checked it (signature, time, stake, probe): what the registry writes. */
export type MinerJoin = {
  url: string;
  /** Lowercase. */
  address: string;
  models: string[];
  protocol: MinerProtocol;
  offchain: boolean;
  maxConcurrency: number;
  credential: string;
  nonce: string;
  /** Until when the nonce must be remembered (ms; domain/miners/join-admission.ts). */
  nonceExpiresAt: number;
  /** The payout account a new miner gets (a renewal keeps its own). */
  payoutAccount: string | null;
  leaseExpiresAt: number;
};
/** Why a join or leave was refused before or at the write. */
export type JoinRefusal = { refused: "address_banned" | "nonce_reused" | "address_taken" | "not_joined" };

export type SessionSummary = { id: number; name: string; model: string; redundancy: number; mode: string; active: boolean };

export type MinerOutcomeReport = {
  minerId: string;
  /** `request_failed`: failed or timed out because of the request (`domain/miners/fault.ts`), not held against the miner. */
  /** `usage_misreported`: answered, but reported usage the router's count proves false (`domain/metering/usage-audit.ts`): scored and counted as a failure. */
  outcome: "agreed" | "disagreed" | "failed" | "timed_out" | "request_failed" | "usage_misreported" | "cancelled";
  latencyMs: number | null;
};

/** One flush of a Session object's queued outcome reports (durable-objects/session/pending-reports.ts). */
export type ReportBatch = {
  batchId: string;
  /** The sending Session object, whose load this batch replaces. */
  session: string;
  /** The session's model: the flush answers with its current candidates. */
  model: string;
  reports: MinerOutcomeReport[];
  /** The session's calls in flight per miner when it sent the batch. */
  load: Record<string, number>;
};

const Models = z.array(z.string());
/** A miner row as the join rule (domain/miners/join-admission.ts) reads the holder of an address. */
const holderOf = (r: MinerRow): AddressHolder => ({ source: r.source, url: r.url, leaseExpiresAt: r.lease_expires_at });
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** What the registry reaches: itself, and the ledgers it reads stakes from. */
type RegistryEnv = Vars & { MINERS: DurableObjectNamespace<MinerRegistry>; LEDGERS: DurableObjectNamespace<LedgerObject> };

/**
 * One per deployment: the miners (endpoint, sealed credential, health,
 * latency, reputation) and the directory of sessions. No task waits on it:
 * Session objects pick from their own snapshot of `candidates` and send
 * outcomes in batches (`reportBatch`). Load (calls in flight, as each
 * session last reported it) lives in memory only: it is meaningless after a
 * restart.
 */
export class MinerRegistry extends SqliteObject<RegistryEnv> implements RegistryPort {
  /** Each session's last reported load: calls in flight per miner. */
  private readonly loads = new Map<string, { at: number; load: Record<string, number> }>();
  /** RPCs the Session objects made, by kind: what "no global object on a task's path" is measured by. */
  readonly calls = { candidates: 0, reportBatch: 0 };
  /** Opened credentials, so dispatch does not decrypt on every task; dropped on update. */
  private readonly credentials = new Map<string, string>();

  constructor(ctx: DurableObjectState, env: RegistryEnv) {
    super(ctx, env, REGISTRY_MIGRATIONS);
  }

  private get secret() {
    return loadConfig(this.env).credentialKey;
  }

  private toPublic(row: MinerRow): MinerPublic {
    return {
      id: row.id,
      name: row.name,
      url: row.url,
      evm_address: row.evm_address,
      models: Models.parse(JSON.parse(row.models)),
      max_concurrency: row.max_concurrency,
      offchain: row.offchain === 1,
      protocol: row.protocol,
      payout_account: row.payout_account,
      source: row.source,
      lease_expires_at: iso(row.lease_expires_at),
      node: row.node_report === null ? null : (NeuroShardNodeReportSchema.safeParse(JSON.parse(row.node_report)).data ?? null),
      training: row.training_report === null ? null : (NeuroShardTrainingReportSchema.safeParse(JSON.parse(row.training_report)).data ?? null),
      healthy: row.healthy === 1,
      benched: row.benched === 1,
      probation: { on_probation: row.probation_remaining > 0, agreeing_results_needed: row.probation_remaining },
      last_health_check_at: iso(row.last_health_check_at),
      last_error: row.last_error,
      reputation: row.reputation,
      latency_ms: row.latency_ms === null ? null : Math.round(row.latency_ms),
      in_flight: this.inFlight(row.id),
      stats: { agreed: row.agreed, disagreed: row.disagreed, failed: row.failed, timed_out: row.timed_out, request_failed: row.request_failed },
      created_at: new Date(row.created_at).toISOString(),
      updated_at: new Date(row.updated_at).toISOString(),
    };
  }

  private row(id: string): MinerRow | undefined {
    return this.sql<MinerRow>`SELECT * FROM miners WHERE id = ${id}`[0];
  }

  listMiners(): MinerPublic[] {
    return this.sql<MinerRow>`SELECT * FROM miners ORDER BY created_at, id`.map((r) => this.toPublic(r));
  }

  getMiner(id: string): MinerPublic | null {
    const row = this.row(id);
    return row ? this.toPublic(row) : null;
  }

  /**
   * Registers a miner. `proofNonce`: the challenge its address proof
   * answered (checked by the caller, `domain/miners/address-proof.ts`),
   * used up here in the same turn as the insert, so a proof registers once.
   * `options.probation`: admitted on probation (a miner that joined by
   * itself), in the same write, so no snapshot ever offers it as established.
   */
  async registerMiner(input: MinerRegister, proofNonce?: string, options: { probation?: boolean } = {}): Promise<MinerPublic | MinerRefusal> {
    const id = input.id ?? `miner-${crypto.randomUUID().slice(0, 8)}`;
    if (this.row(id)) return { refused: "id_taken" };
    const sealed = await seal(this.secret, CREDENTIAL_PURPOSE, input.credential, id);
    const now = Date.now();
    // No await from here to the insert: the checks and the write are one turn.
    if (this.row(id)) return { refused: "id_taken" };
    const refusal = this.claimAddress(id, input.evm_address ?? null, proofNonce, now);
    if (refusal) return refusal;
    this.sql`INSERT INTO miners (id, name, url, credential_sealed, evm_address, models, max_concurrency, offchain, protocol, payout_account, reputation,
                                 probation_remaining, created_at, updated_at)
             VALUES (${id}, ${input.name ?? id}, ${input.url}, ${sealed}, ${input.evm_address ?? null},
                     ${JSON.stringify(input.models)}, ${input.max_concurrency}, ${input.offchain ? 1 : 0}, ${input.protocol}, ${input.payout_account},
                     ${INITIAL_REPUTATION}, ${options.probation ? this.probationResults : 0}, ${now}, ${now})`;
    if (input.payout_account) await this.refreshStakes([input.payout_account]);
    return this.getMiner(id) ?? { refused: "id_taken" };
  }

  /** `proofNonce`: as for `registerMiner`, when the patch sets an address or moves a miner that has one. Null when no such miner. */
  async updateMiner(id: string, patch: MinerUpdate, proofNonce?: string): Promise<MinerPublic | MinerRefusal | null> {
    if (!this.row(id)) return null;
    const sealed = patch.credential ? await seal(this.secret, CREDENTIAL_PURPOSE, patch.credential, id) : undefined;
    const row = this.row(id);
    if (!row) return null;
    // A new address, or the kept one proven again for a new URL (the route asks a proof for either).
    const proving = patch.evm_address ?? (proofNonce === undefined ? null : row.evm_address);
    if (proving) {
      const refusal = this.claimAddress(id, proving, proofNonce, Date.now());
      if (refusal) return refusal;
    }
    this.credentials.delete(id);
    // A new address, credential or protocol is a different server to the router: its health is re-earned.
    const serverChanged = (patch.url !== undefined && patch.url !== row.url) || (patch.protocol !== undefined && patch.protocol !== row.protocol);
    this.sql`UPDATE miners SET
               name = ${patch.name ?? row.name},
               url = ${patch.url ?? row.url},
               credential_sealed = ${sealed ?? row.credential_sealed},
               evm_address = ${patch.evm_address === undefined ? row.evm_address : patch.evm_address},
               models = ${patch.models ? JSON.stringify(patch.models) : row.models},
               max_concurrency = ${patch.max_concurrency ?? row.max_concurrency},
               offchain = ${patch.offchain === undefined ? row.offchain : patch.offchain ? 1 : 0},
               protocol = ${patch.protocol ?? row.protocol},
               payout_account = ${patch.payout_account === undefined ? row.payout_account : patch.payout_account},
               benched = ${patch.benched === undefined ? row.benched : patch.benched ? 1 : 0},
               probation_remaining = ${patch.probation === undefined ? row.probation_remaining : patch.probation ? this.probationResults : 0},
               node_report = ${serverChanged ? null : row.node_report},
               training_report = ${serverChanged ? null : row.training_report},
               healthy = ${serverChanged || patch.credential ? 1 : row.healthy},
               consecutive_failures = ${serverChanged || patch.credential ? 0 : row.consecutive_failures},
               updated_at = ${Date.now()}
             WHERE id = ${id}`;
    if (patch.payout_account) await this.refreshStakes([patch.payout_account]);
    return this.getMiner(id);
  }

  /**
   * Puts miner `id` on probation with MINER_PROBATION_RESULTS agreeing
   * results to go (`on`), or establishes it at once. The join route admits
   * a miner with it; an operator sets it with PATCH `probation`. Null when
   * no such miner.
   */
  setProbation(id: string, on: boolean): MinerPublic | null {
    if (!this.row(id)) return null;
    this.sql`UPDATE miners SET probation_remaining = ${on ? this.probationResults : 0}, updated_at = ${Date.now()} WHERE id = ${id}`;
    return this.getMiner(id);
  }

  private get probationResults(): number {
    return loadConfig(this.env).probationResults;
  }

  /**
   * Whether miner `id` may take `address`: no other registered miner holds
   * it (the unique index says so too), and the proof's challenge is open,
   * which it uses up. Synchronous: the caller writes in the same turn.
   */
  private claimAddress(id: string, address: string | null, proofNonce: string | undefined, now: number): MinerRefusal | undefined {
    if (address === null) return undefined;
    if (this.sql`SELECT 1 FROM miners WHERE lower(evm_address) = lower(${address}) AND id != ${id}`.length > 0) return { refused: "address_taken" };
    // A wallet account's address is its customer's: a miner taking it would capture the customer's transfers.
    if (customerHoldingAddress(this.sql, address) !== null) return { refused: "address_taken" };
    if (proofNonce === undefined) return { refused: "challenge_used" };
    const used = this.sql`UPDATE address_challenges SET used_at = ${now} WHERE nonce = ${proofNonce} AND used_at IS NULL AND expires_at > ${now} RETURNING nonce`;
    return used.length === 1 ? undefined : { refused: "challenge_used" };
  }

  /** A new single-use registration challenge, open for CHALLENGE_TTL_MS (POST /api/v1/admin/miners/challenge). */
  issueChallenge(): AddressChallenge {
    const now = Date.now();
    const nonce = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
    const expiresAt = now + CHALLENGE_TTL_MS;
    this.sql`INSERT INTO address_challenges (nonce, issued_at, expires_at) VALUES (${nonce}, ${now}, ${expiresAt})`;
    // Expired challenges are kept one more TTL, so a late replay is still told "used or expired", then dropped.
    this.sql`DELETE FROM address_challenges WHERE expires_at < ${now - CHALLENGE_TTL_MS}`;
    return { nonce, issuedAt: now, expiresAt };
  }

  /** A challenge that may still be answered: issued here, unused, unexpired; null otherwise. */
  openChallenge(nonce: string): AddressChallenge | null {
    const row = this.sql<{ issued_at: number; expires_at: number }>`
      SELECT issued_at, expires_at FROM address_challenges WHERE nonce = ${nonce} AND used_at IS NULL AND expires_at > ${Date.now()}`[0];
    return row ? { nonce, issuedAt: row.issued_at, expiresAt: row.expires_at } : null;
  }

  removeMiner(id: string): boolean {
    const existed = this.row(id) !== undefined;
    this.sql`DELETE FROM miners WHERE id = ${id}`;
    this.credentials.delete(id);
    return existed;
  }

  /**
   * Healthy miners serving `model`, with what a Session object needs to pick
   * among them itself (see MinerPool): credential, reputation, capacity, load.
   */
  async candidates(model: string): Promise<MinerCandidate[]> {
    this.calls.candidates++;
    return this.candidatesFor(model);
  }

  private async candidatesFor(model: string): Promise<MinerCandidate[]> {
    const rows = this.sql<MinerRow & StakeColumns>`
      SELECT miners.*, account_stakes.staked_micros, account_stakes.tier_bps, account_stakes.refreshed_at,
             (SELECT COUNT(*) FROM miners AS peers WHERE peers.payout_account = miners.payout_account) AS account_miners
      FROM miners
      LEFT JOIN account_stakes ON account_stakes.account = miners.payout_account
      WHERE healthy = 1 AND benched = 0 AND (lease_expires_at IS NULL OR lease_expires_at > ${Date.now()})
      ORDER BY id`.filter((r) => Models.parse(JSON.parse(r.models)).includes(model));
    return Promise.all(
      rows.map(async (r) => ({
        id: r.id,
        url: r.url,
        credential: await this.credential(r),
        // Off-chain delivery is an extension of the OpenAI request; a NeuroShard node always gets the prompt.
        offchain: r.offchain === 1 && r.protocol === "openai",
        protocol: r.protocol,
        address: r.evm_address,
        payoutAccount: r.payout_account,
        reputation: r.reputation,
        maxConcurrency: r.max_concurrency,
        inFlight: this.inFlight(r.id),
        latencyMs: r.latency_ms,
        stakeMultiplier: this.stakeMultiplierOf(r),
        probation: r.probation_remaining > 0,
      })),
    );
  }

  // Stake weights: selection must not call a Ledger per task, so the registry keeps each payout
  // account's locked stake and tier and hands out each miner's multiplier with the candidates: the
  // stake divided among the miners paying out to the account (domain/wallet/stake-weight.ts). A
  // Ledger pushes its stake when it changes (`setAccountStake`); the cron (every 2 minutes) and a
  // change of a miner's payout account read it again (`refreshStakes`), which also catches a stake
  // ending at its unlock date. Sessions see a change with their next snapshot (within 2 s).

  /** A miner's stake multiplier from its account's kept stake, shared by every registered miner paying out to it. */
  private stakeMultiplierOf(r: StakeColumns): number {
    if (r.staked_micros === null || r.tier_bps === null) return 1;
    return minerStakeMultiplier({ stakedMicros: r.staked_micros, tierBps: r.tier_bps }, r.account_miners, loadConfig(this.env).stakeWeight);
  }

  /**
   * Every miner's payout account and the stake multiplier selection weighs it
   * by (from the registry's kept stake, 1 without one), for the admin's
   * rewards report; in the miners' listing order.
   */
  payouts(): MinerPayout[] {
    return this.sql<{ miner_id: string; name: string; payout_account: string | null } & StakeColumns>`
      SELECT miners.id AS miner_id, miners.name, miners.payout_account, account_stakes.staked_micros, account_stakes.tier_bps, account_stakes.refreshed_at,
             (SELECT COUNT(*) FROM miners AS peers WHERE peers.payout_account = miners.payout_account) AS account_miners
      FROM miners LEFT JOIN account_stakes ON account_stakes.account = miners.payout_account
      ORDER BY miners.created_at, miners.id`.map((r) => ({
      miner_id: r.miner_id,
      name: r.name,
      payout_account: r.payout_account,
      stake_multiplier: this.stakeMultiplierOf(r),
      multiplier_refreshed_at: r.refreshed_at,
    }));
  }

  /**
   * The miners with a registered (hence proven) EVM address and a payout account: those whose earnings
   * are posted on chain for claiming (durable-objects/chain-index/reward-epochs.ts).
   */
  claimableMiners(): { miner_id: string; evm_address: string; payout_account: string }[] {
    return this.sql<{ miner_id: string; evm_address: string; payout_account: string }>`
      SELECT id AS miner_id, lower(evm_address) AS evm_address, payout_account FROM miners
      WHERE evm_address IS NOT NULL AND payout_account IS NOT NULL ORDER BY lower(evm_address)`;
  }

  /** Keeps an account's locked stake (its Ledger's push after a stake change, or a refresh). */
  setAccountStake(account: string, stake: AccountStake): void {
    const staked = Number.isSafeInteger(stake.stakedMicros) && stake.stakedMicros > 0 ? stake.stakedMicros : 0;
    const tier = Number.isSafeInteger(stake.tierBps) && stake.tierBps > 0 ? stake.tierBps : 0;
    this.sql`INSERT INTO account_stakes (account, staked_micros, tier_bps, refreshed_at) VALUES (${account}, ${staked}, ${tier}, ${Date.now()})
             ON CONFLICT (account) DO UPDATE SET staked_micros = excluded.staked_micros, tier_bps = excluded.tier_bps, refreshed_at = excluded.refreshed_at`;
  }

  /**
   * Reads the locked stake of each payout account (or of `accounts` only)
   * from its Ledger. An account whose Ledger cannot be read keeps the stake
   * it had (none: multiplier 1). Answers the multiplier each account's
   * miners get now.
   */
  async refreshStakes(accounts?: readonly string[]): Promise<Record<string, number>> {
    const names = accounts ?? this.sql<{ account: string }>`SELECT DISTINCT payout_account AS account FROM miners WHERE payout_account IS NOT NULL`.map((r) => r.account);
    const now = Date.now();
    await sixAtATime(names, async (account) => {
      try {
        this.setAccountStake(account, await ledgerStub(this.env, account).lockedStake(now));
      } catch (err) {
        console.error(`reading the stake of ${account} failed; kept`, err);
      }
    });
    const read: Record<string, number> = {};
    for (const account of names) {
      const [row] = this.sql<StakeColumns>`SELECT staked_micros, tier_bps, refreshed_at,
        (SELECT COUNT(*) FROM miners WHERE payout_account = ${account}) AS account_miners FROM account_stakes WHERE account = ${account}`;
      read[account] = row ? this.stakeMultiplierOf(row) : 1;
    }
    return read;
  }

  /** Calls in flight on a miner, summed over the sessions that reported load lately. */
  private inFlight(minerId: string): number {
    const since = Date.now() - LOAD_TTL_MS;
    let n = 0;
    for (const [session, { at, load }] of this.loads) {
      if (at < since) this.loads.delete(session);
      else n += load[minerId] ?? 0;
    }
    return n;
  }

  private async credential(row: MinerRow): Promise<string> {
    let plain = this.credentials.get(row.id);
    if (plain === undefined) {
      plain = await open(this.secret, CREDENTIAL_PURPOSE, row.credential_sealed, row.id);
      this.credentials.set(row.id, plain);
    }
    return plain;
  }

  /**
   * A Session object's batch of outcome reports, applied once per batch id
   * (a retried flush whose first answer was lost is acknowledged, not
   * counted again). Records the session's load and answers with the current
   * candidates for its model, so one round trip also refreshes its snapshot.
   */
  async reportBatch(batch: ReportBatch): Promise<{ duplicate: boolean; candidates: MinerCandidate[] }> {
    this.calls.reportBatch++;
    const now = Date.now();
    this.loads.set(batch.session, { at: now, load: batch.load });
    const duplicate = this.sql`SELECT 1 FROM report_batches WHERE batch_id = ${batch.batchId}`.length > 0;
    if (!duplicate) {
      // The outcomes and the batch id are written without an await between them: one storage turn, so both or neither.
      const suspects = this.applyOutcomes(batch.reports, now);
      this.sql`INSERT INTO report_batches (batch_id, received_at) VALUES (${batch.batchId}, ${now})`;
      this.sql`DELETE FROM report_batches WHERE received_at < ${now - BATCH_MEMORY_MS}`;
      for (const id of suspects) await this.probeSuspect(id, now);
    }
    return { duplicate, candidates: await this.candidatesFor(batch.model) };
  }

  /**
   * Feeds latency and agreement into reputation. Failures the request caused
   * are only counted; a run of the miner's own faults has it probed
   * (`FAULTS_BEFORE_PROBE`, by the caller), and the probe alone decides
   * whether it is benched. Returns the miners to probe.
   */
  private applyOutcomes(reports: readonly MinerOutcomeReport[], now: number): Set<string> {
    const suspects = new Set<string>();
    const probationResults = this.probationResults;
    for (const r of reports) {
      if (r.outcome === "cancelled") continue;
      const row = this.row(r.minerId);
      if (!row) continue;
      if (r.outcome === "request_failed") {
        this.sql`UPDATE miners SET request_failed = request_failed + 1, updated_at = ${now} WHERE id = ${r.minerId}`;
        continue;
      }
      const latency = r.latencyMs === null ? row.latency_ms : row.latency_ms === null ? r.latencyMs : row.latency_ms * 0.8 + r.latencyMs * 0.2;
      // A usage misreport is dishonesty, not ill health: it costs reputation and counts as a failure, without asking for a probe.
      const misreported = r.outcome === "usage_misreported";
      const failures = r.outcome === "failed" || r.outcome === "timed_out" ? row.consecutive_failures + 1 : misreported ? row.consecutive_failures : 0;
      this.sql`UPDATE miners SET
                 reputation = ${nextReputation(row.reputation, r.outcome === "usage_misreported" ? "failed" : r.outcome)},
                 latency_ms = ${latency},
                 agreed = agreed + ${r.outcome === "agreed" ? 1 : 0},
                 disagreed = disagreed + ${r.outcome === "disagreed" ? 1 : 0},
                 failed = failed + ${r.outcome === "failed" || misreported ? 1 : 0},
                 timed_out = timed_out + ${r.outcome === "timed_out" ? 1 : 0},
                 consecutive_failures = ${failures},
                 probation_remaining = ${remainingAfter(row.probation_remaining, r.outcome, probationResults)},
                 last_error = ${misreported ? "usage misreported" : failures > 0 ? `dispatch ${r.outcome}` : row.last_error},
                 updated_at = ${now}
               WHERE id = ${r.minerId}`;
      if (failures >= FAULTS_BEFORE_PROBE) suspects.add(r.minerId);
    }
    return suspects;
  }

  /** Probes a miner whose tasks keep failing, unless it is benched already or was probed recently. */
  private async probeSuspect(id: string, now: number): Promise<void> {
    const row = this.row(id);
    if (!row || row.healthy === 0) return;
    if (row.last_health_check_at !== null && now - row.last_health_check_at < PROBE_INTERVAL_MS) return;
    // Claimed before the await, so reports arriving meanwhile do not probe it again.
    this.sql`UPDATE miners SET last_health_check_at = ${now} WHERE id = ${id}`;
    await this.probe(row, PROBE_TIMEOUT_MS);
  }

  /** One health probe of one miner, recorded: healthy (faults forgiven) or benched with the probe's error. */
  private async probe(row: MinerRow, timeoutMs: number): Promise<{ id: string; healthy: boolean; error: string | null }> {
    const credential = await this.credential(row);
    const probe = await probeMiner({ id: row.id, url: row.url, credential, protocol: row.protocol }, { timeoutMs });
    const now = Date.now();
    if (probe.ok) {
      const latency = row.latency_ms === null ? probe.latencyMs : row.latency_ms;
      this.sql`UPDATE miners SET healthy = 1, consecutive_failures = 0, last_error = NULL, last_health_check_at = ${now}, latency_ms = ${latency},
                 node_report = ${probe.node ? JSON.stringify(probe.node) : row.node_report},
                 training_report = ${probe.training ? JSON.stringify(probe.training) : null} WHERE id = ${row.id}`;
      return { id: row.id, healthy: true, error: null };
    }
    this.sql`UPDATE miners SET healthy = 0, last_error = ${probe.error}, last_health_check_at = ${now} WHERE id = ${row.id}`;
    return { id: row.id, healthy: false, error: probe.error };
  }

  /** Probes every miner's `/v1/models` with its credential; the cron trigger calls this. */
  async checkHealth(timeoutMs = 5000): Promise<{ id: string; healthy: boolean; error: string | null }[]> {
    // A joined miner past its lease is not probed: it may be gone for good, and it is probed again when it rejoins.
    const rows = this.sql<MinerRow>`SELECT * FROM miners WHERE lease_expires_at IS NULL OR lease_expires_at > ${Date.now()}`;
    return sixAtATime(rows, (row) => this.probe(row, timeoutMs));
  }

  // Miners joining by themselves (workers/router/miner-join-routes.ts checks the signature, time, stake and
  // probe; here, what needs the stored state: bans, used nonces, who holds the address, and the write).

  private holderOf(address: string): MinerRow | undefined {
    return this.sql<MinerRow>`SELECT * FROM miners WHERE lower(evm_address) = lower(${address})`[0];
  }

  private nonceUsed(address: string, nonce: string): boolean {
    return this.sql`SELECT 1 FROM join_nonces WHERE address = lower(${address}) AND nonce = ${nonce}`.length > 0;
  }

  /** Whether a join would be refused for what the registry knows (checked again at the write); else the holder's payout account. */
  private joinRefusal(address: string, url: string, nonce: string, now: number): JoinRefusal | undefined {
    if (this.sql`SELECT 1 FROM banned_addresses WHERE address = lower(${address})`.length > 0) return { refused: "address_banned" };
    if (this.nonceUsed(address, nonce)) return { refused: "nonce_reused" };
    const holder = this.holderOf(address);
    if (joinEffect(holder && holderOf(holder), url, now) === "address_taken") return { refused: "address_taken" };
    return undefined;
  }

  /**
   * The cheap refusals of a join, before the route spends a stake read and a
   * probe on it; otherwise the account standing behind the address: the
   * payout account of the miner holding it (a renewal), else the wallet
   * account that proved it (wallet-addresses.ts), else none.
   */
  joinPreflight(address: string, url: string, nonce: string): JoinRefusal | { payoutAccount: string | null } {
    const refusal = this.joinRefusal(address, url, nonce, Date.now());
    return refusal ?? { payoutAccount: this.holderOf(address)?.payout_account ?? customerHoldingAddress(this.sql, address) };
  }

  /**
   * Admits or renews a joined miner: the refusals are checked again and the
   * nonce used up in the same turn as the write, so two racing joins with one
   * nonce admit once. A new miner starts on probation (MINER_PROBATION_RESULTS
   * agreeing results to go), in the same write, so no session's snapshot ever
   * sees it established. A renewal keeps the id, stats, reputation, probation
   * and payout account; the join's probe just passed, so its health is fresh.
   */
  async joinMiner(join: MinerJoin): Promise<{ miner: MinerPublic; created: boolean } | JoinRefusal> {
    const holder = this.holderOf(join.address);
    const id = holder?.id ?? `joined-${crypto.randomUUID().slice(0, 8)}`;
    const sealed = await seal(this.secret, CREDENTIAL_PURPOSE, join.credential, id);
    const now = Date.now();
    // No await from here to the write: the checks, the nonce and the row are one turn.
    const refusal = this.joinRefusal(join.address, join.url, join.nonce, now);
    if (refusal) return refusal;
    const current = this.holderOf(join.address);
    if ((current?.id ?? id) !== id) return { refused: "address_taken" };
    this.sql`INSERT INTO join_nonces (address, nonce, expires_at) VALUES (lower(${join.address}), ${join.nonce}, ${join.nonceExpiresAt})`;
    this.sql`DELETE FROM join_nonces WHERE expires_at < ${now}`;
    this.credentials.delete(id);
    if (!current) {
      this.sql`INSERT INTO miners (id, name, url, credential_sealed, evm_address, models, max_concurrency, offchain, protocol, payout_account, source,
                                   lease_expires_at, probation_remaining, reputation, last_health_check_at, created_at, updated_at)
               VALUES (${id}, ${id}, ${join.url}, ${sealed}, ${join.address}, ${JSON.stringify(join.models)}, ${join.maxConcurrency}, ${join.offchain ? 1 : 0},
                       ${join.protocol}, ${join.payoutAccount}, 'joined', ${join.leaseExpiresAt}, ${this.probationResults}, ${INITIAL_REPUTATION}, ${now}, ${now}, ${now})`;
      if (join.payoutAccount) await this.refreshStakes([join.payoutAccount]);
    } else {
      // Another URL or protocol is another server: what its health check read of the old one is dropped.
      const serverChanged = current.url !== join.url || current.protocol !== join.protocol;
      this.sql`UPDATE miners SET url = ${join.url}, credential_sealed = ${sealed}, models = ${JSON.stringify(join.models)}, max_concurrency = ${join.maxConcurrency},
                 offchain = ${join.offchain ? 1 : 0}, protocol = ${join.protocol}, lease_expires_at = ${join.leaseExpiresAt},
                 node_report = ${serverChanged ? null : current.node_report}, training_report = ${serverChanged ? null : current.training_report},
                 healthy = 1, consecutive_failures = 0, last_error = NULL, last_health_check_at = ${now}, updated_at = ${now}
               WHERE id = ${id}`;
    }
    const miner = this.getMiner(id);
    return miner ? { miner, created: !current } : { refused: "not_joined" };
  }

  /** Ends a joined miner's lease now (its signed leave, checked by the route); the nonce is used up with it. */
  leaveMiner(address: string, nonce: string, nonceExpiresAt: number): MinerPublic | JoinRefusal {
    const now = Date.now();
    if (this.nonceUsed(address, nonce)) return { refused: "nonce_reused" };
    const holder = this.holderOf(address);
    if (holder?.source !== "joined") return { refused: "not_joined" };
    this.sql`INSERT INTO join_nonces (address, nonce, expires_at) VALUES (lower(${address}), ${nonce}, ${nonceExpiresAt})`;
    this.sql`UPDATE miners SET lease_expires_at = MIN(COALESCE(lease_expires_at, ${now}), ${now}), updated_at = ${now} WHERE id = ${holder.id}`;
    return this.getMiner(holder.id) ?? { refused: "not_joined" };
  }

  /** Bans an address (again: the reason is replaced): it cannot join, and every miner under it is benched. Answers the ban and the benched ids. */
  banAddress(address: string, reason: string): { ban: MinerBan; benched: string[] } {
    const now = Date.now();
    this.sql`INSERT INTO banned_addresses (address, reason, banned_at) VALUES (lower(${address}), ${reason}, ${now})
             ON CONFLICT (address) DO UPDATE SET reason = excluded.reason`;
    const benched = this.sql<{ id: string }>`UPDATE miners SET benched = 1, updated_at = ${now} WHERE lower(evm_address) = lower(${address}) RETURNING id`.map((r) => r.id);
    for (const id of benched) this.credentials.delete(id);
    const ban = this.listBans().find((b) => b.evm_address === address.toLowerCase());
    return { ban: ban ?? { evm_address: address.toLowerCase(), reason, banned_at: new Date(now).toISOString() }, benched };
  }

  /** Lifts a ban (the miners it benched stay benched until an operator unbenches them). False when the address was not banned. */
  unbanAddress(address: string): boolean {
    return this.sql`DELETE FROM banned_addresses WHERE address = lower(${address}) RETURNING address`.length > 0;
  }

  listBans(): MinerBan[] {
    return this.sql<{ address: string; reason: string; banned_at: number }>`SELECT address, reason, banned_at FROM banned_addresses ORDER BY banned_at, address`.map((r) => ({
      evm_address: r.address,
      reason: r.reason,
      banned_at: new Date(r.banned_at).toISOString(),
    }));
  }

  // Run-time settings (durable-objects/run-time-settings.ts): the deployment's vars an operator changed.

  runTimeSettings(): RunTimeSettings {
    return readRunTimeSettings(this.sql);
  }

  updateRunTimeSettings(vars: Record<string, string>): RunTimeSettings {
    return writeRunTimeSettings(this.sql, vars);
  }

  // Trial and x402 activity by day (durable-objects/activity-days.ts).

  addActivity(batch: ActivityBatch): { duplicate: boolean } {
    return addActivityBatch(this.sql, batch, Date.now());
  }

  activity(fromDay: string): ActivityCounts[] {
    return readActivity(this.sql, fromDay);
  }

  // Session directory: the Session objects hold the truth; this lists them.

  indexSession(s: SessionSummary): void {
    this.sql`INSERT INTO sessions (id, name, model, redundancy, mode, active, updated_at)
             VALUES (${s.id}, ${s.name}, ${s.model}, ${s.redundancy}, ${s.mode}, ${s.active ? 1 : 0}, ${Date.now()})
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, model = excluded.model, redundancy = excluded.redundancy,
               mode = excluded.mode, active = excluded.active, updated_at = excluded.updated_at`;
  }

  listSessions(options: { includeInactive: boolean }): SessionSummary[] {
    const rows = this.sql<{ id: number; name: string; model: string; redundancy: number; mode: string; active: number }>`
      SELECT id, name, model, redundancy, mode, active FROM sessions ORDER BY id`;
    return rows.filter((r) => options.includeInactive || r.active === 1).map((r) => ({ ...r, active: r.active === 1 }));
  }

  // The customer directory: each customer's Ledger holds the truth and lists itself here.

  /** Lists a gateway customer's account in the directory (again: a no-op). */
  listAccount(c: CustomerEntry): void {
    this.sql`INSERT INTO accounts (customer_id, name, billing, created_at, listed_at)
             VALUES (${c.id}, ${c.name}, ${c.billing}, ${Date.parse(c.created_at)}, ${Date.now()}) ON CONFLICT (customer_id) DO NOTHING`;
  }

  /** Every listed account's customer id. */
  accountIds(): string[] {
    return this.sql<{ customer_id: string }>`SELECT customer_id FROM accounts ORDER BY customer_id`.map((r) => r.customer_id);
  }

  /** The account a send to `address` reaches (wallet-addresses.ts): a miner's payout account, or a customer's proven address. */
  accountForAddress(address: string): AddressAccount {
    return addressAccount(this.sql, address);
  }

  /** Registers a customer's proven address, using up its challenge in the same turn (the caller checked the signature). */
  registerAccountAddress(input: { address: string; customerId: string; nonce: string }): ReturnType<typeof registerAccountAddress> | AccountAddressRefusal {
    return registerAccountAddress(this.sql, input, Date.now());
  }

  /** The addresses a customer registered for its account. */
  accountAddresses(customerId: string): string[] {
    return accountAddresses(this.sql, customerId);
  }

  /** Every listed customer, by id (GET /v1/admin/customers). */
  listCustomers(): CustomerEntry[] {
    return this.sql<{ id: string; name: string; billing: CustomerEntry["billing"]; created_at: number }>`
      SELECT customer_id AS id, name, billing, created_at FROM accounts ORDER BY customer_id`.map((r) => ({ ...r, created_at: new Date(r.created_at).toISOString() }));
  }

  /** Next free session id, for sessions created without one. */
  nextSessionId(): number {
    const row = this.sql<{ next: number }>`SELECT COALESCE(MAX(id) + 1, 0) AS next FROM sessions`[0];
    return row?.next ?? 0;
  }
}
