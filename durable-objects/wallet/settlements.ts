import { exactSum } from "../../domain/wallet/safe-micros";
import type { Sql } from "../sqlite-object";
import { journal } from "./journal";

/**
 * The settlements table (a Ledger migration; docs/storage-schema.md): what
 * left this payout account for a RewardDistributor, by miner, once by
 * (distributor, round, miner).
 */
export const SETTLEMENTS_MIGRATION = `
  CREATE TABLE settlements (
    ref TEXT PRIMARY KEY,
    distributor TEXT NOT NULL,
    round INTEGER NOT NULL,
    miner_id TEXT NOT NULL,
    address TEXT NOT NULL,
    amount_micros INTEGER NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX settlements_miner ON settlements (miner_id);`;

/** A miner whose earnings here are to settle on chain, under its registered address. */
export type SettleMiner = { minerId: string; address: string };
/** What one settlement moved out of the account (0: nothing left to settle); `replayed` when its key was seen before. */
export type Settled = { minerId: string; address: string; movedMicros: number; replayed: boolean };

/** The journal's counterparty of a settlement: where the micros went. */
export const settledTo = (distributor: string) => `chain:${distributor.toLowerCase()}`;
const refOf = (distributor: string, round: number, minerId: string) => `${distributor.toLowerCase()}:${round}:${minerId}`;

/**
 * Settles each miner's unsettled earnings (credited rewards under its miner
 * id less everything settled for it before, to any distributor) out of the
 * available balance, as far as the balance goes: a miner that spent, sent or
 * staked part of what it earned settles only what is left. Each settlement
 * is a `settle` journal entry (the balance's debit) and a settlements row,
 * once by (distributor, round, miner): asked again, it answers what it moved
 * then and moves nothing. Nothing moved records nothing, so a later round
 * under the same key still settles what is earned by then. The caller holds
 * the storage transaction.
 */
export function settle(sql: Sql, distributor: string, round: number, miners: readonly SettleMiner[], now: number): Settled[] {
  let available = Math.max(0, sql<{ n: number }>`SELECT balance_micros AS n FROM customer WHERE id = 1`[0]?.n ?? 0);
  return miners.map(({ minerId, address }) => {
    const ref = refOf(distributor, round, minerId);
    const before = sql<{ amount_micros: number; address: string }>`SELECT amount_micros, address FROM settlements WHERE ref = ${ref}`[0];
    if (before) return { minerId, address: before.address, movedMicros: before.amount_micros, replayed: true };
    const earned = exactSum(
      sql<{ n: string }>`SELECT CAST(COALESCE(SUM(amount_micros), 0) AS TEXT) AS n FROM rewards WHERE miner_id = ${minerId} AND credited_at IS NOT NULL`[0]?.n ?? "0",
      "earned",
    );
    const moved = Math.min(Math.max(0, earned - settledOf(sql, minerId)), available);
    if (moved <= 0) return { minerId, address, movedMicros: 0, replayed: false };
    available -= moved;
    const to = address.toLowerCase();
    sql`INSERT INTO settlements (ref, distributor, round, miner_id, address, amount_micros, at)
        VALUES (${ref}, ${distributor.toLowerCase()}, ${round}, ${minerId}, ${to}, ${moved}, ${now})`;
    journal(sql, {
      type: "settle",
      ref,
      available_micros: -moved,
      counterparty: settledTo(distributor),
      memo: "settled on chain",
      details: { distributor: distributor.toLowerCase(), round, miner_id: minerId, address: to },
      at: now,
    });
    return { minerId, address: to, movedMicros: moved, replayed: false };
  });
}

/** Everything settled for a miner from this account, to any distributor. */
export const settledOf = (sql: Sql, minerId: string) =>
  exactSum(sql<{ n: string }>`SELECT CAST(COALESCE(SUM(amount_micros), 0) AS TEXT) AS n FROM settlements WHERE miner_id = ${minerId}`[0]?.n ?? "0", "settled");

/** What this account settled to each (distributor, address), for the claims' conservation check. */
export function settlementsByAddress(sql: Sql): { distributor: string; address: string; micros: number }[] {
  return sql<{ distributor: string; address: string; n: string }>`
    SELECT distributor, address, CAST(SUM(amount_micros) AS TEXT) AS n FROM settlements GROUP BY distributor, address`.map((r) => ({
    distributor: r.distributor,
    address: r.address,
    micros: exactSum(r.n, "settled"),
  }));
}
