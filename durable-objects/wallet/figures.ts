import { LEGACY_SOURCE } from "../../domain/rewards/reward-sources";
import { exactSum } from "../../domain/wallet/safe-micros";
import type { Sql } from "../sqlite-object";

/**
 * One account's money, for the conservation check (workers/wallet/conservation.ts).
 * All integer micros. What the account holds (`available + staked + pending`)
 * must equal what came in (`credits + rewards + received`) less what went out
 * (`charges + sent + fees + slashed + settled`, settled: earnings moved to a
 * RewardDistributor, claimable on chain); `in_flight` is the part of `sent` its
 * recipients have not acknowledged yet.
 */
export type AccountFigures = {
  available: number;
  staked: number;
  pending: number;
  credits: number;
  rewards: number;
  received: number;
  charges: number;
  sent: number;
  fees: number;
  slashed: number;
  settled: number;
  in_flight: number;
};

type Texts = { [K in keyof AccountFigures]: string };

/** Each figure is summed by SQLite and read as text, so that none comes back as a rounded float (exactSum refuses one past 2^53 − 1). */
export function accountFigures(sql: Sql): AccountFigures | null {
  const row = sql<Texts>`
    SELECT
      CAST(c.balance_micros AS TEXT) AS available,
      (SELECT CAST(COALESCE(SUM(amount_micros), 0) AS TEXT) FROM stake) AS staked,
      (SELECT CAST(COALESCE(SUM(amount_micros), 0) AS TEXT) FROM unstakes WHERE released_at IS NULL) AS pending,
      (SELECT CAST(COALESCE(SUM(available_micros), 0) AS TEXT) FROM journal WHERE type = 'credit') AS credits,
      (SELECT CAST(COALESCE(SUM(amount_micros), 0) AS TEXT) FROM rewards WHERE credited_at IS NOT NULL) AS rewards,
      (SELECT CAST(COALESCE(SUM(available_micros), 0) AS TEXT) FROM journal WHERE type = 'receive') AS received,
      CASE WHEN c.billing = 'prepaid' THEN (SELECT CAST(COALESCE(SUM(cost_micros), 0) AS TEXT) FROM usage) ELSE '0' END AS charges,
      (SELECT CAST(COALESCE(SUM(amount_micros), 0) AS TEXT) FROM transfers_out) AS sent,
      (SELECT CAST(COALESCE(SUM(fee_micros), 0) AS TEXT) FROM transfers_out) AS fees,
      (SELECT CAST(COALESCE(-SUM(staked_micros), 0) AS TEXT) FROM journal WHERE type = 'slash') AS slashed,
      (SELECT CAST(COALESCE(-SUM(available_micros), 0) AS TEXT) FROM journal WHERE type = 'settle') AS settled,
      (SELECT CAST(COALESCE(SUM(amount_micros), 0) AS TEXT) FROM transfers_out WHERE delivered_at IS NULL) AS in_flight
    FROM customer c WHERE c.id = 1`[0];
  if (!row) return null;
  const f = {} as AccountFigures;
  for (const k of Object.keys(row) as (keyof AccountFigures)[]) f[k] = exactSum(row[k], k);
  return f;
}

/**
 * What the account was credited from each source (credits and credited
 * rewards, by source name, domain/rewards/reward-sources.ts); entries from
 * before sources existed name none and count as `legacy`.
 */
export function creditsBySource(sql: Sql): Record<string, number> {
  const bySource: Record<string, number> = {};
  const rows = sql<{ source: string | null; n: string }>`
    SELECT source, CAST(SUM(n) AS TEXT) AS n FROM (
      SELECT CASE WHEN counterparty LIKE 'source:%' THEN substr(counterparty, 8) ELSE NULL END AS source, available_micros AS n FROM journal WHERE type = 'credit'
      UNION ALL
      SELECT source, amount_micros AS n FROM rewards WHERE credited_at IS NOT NULL
    ) GROUP BY source`;
  for (const r of rows) {
    const name = r.source ?? LEGACY_SOURCE;
    bySource[name] = (bySource[name] ?? 0) + exactSum(r.n, `credits from ${name}`);
  }
  return bySource;
}

/** Whether the account's holdings equal its inflows less its outflows (exact: BigInt, whatever the figures' size). */
export const accountBalances = (f: AccountFigures) => {
  const b = (k: keyof AccountFigures) => BigInt(f[k]);
  return b("available") + b("staked") + b("pending") === b("credits") + b("rewards") + b("received") - b("charges") - b("sent") - b("fees") - b("slashed") - b("settled");
};
