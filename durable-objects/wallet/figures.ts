import type { Sql } from "../sqlite-object";

/**
 * One account's money, for the conservation check (workers/wallet/conservation.ts).
 * All integer micros. What the account holds (`available + staked + pending`)
 * must equal what came in (`credits + rewards + received`) less what went out
 * (`charges + sent + fees + slashed`); `in_flight` is the part of `sent` its
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
  in_flight: number;
};

export function accountFigures(sql: Sql): AccountFigures | null {
  const row = sql<AccountFigures>`
    SELECT
      c.balance_micros AS available,
      (SELECT COALESCE(SUM(amount_micros), 0) FROM stake) AS staked,
      (SELECT COALESCE(SUM(amount_micros), 0) FROM unstakes WHERE released_at IS NULL) AS pending,
      (SELECT COALESCE(SUM(available_micros), 0) FROM journal WHERE type = 'credit') AS credits,
      (SELECT COALESCE(SUM(amount_micros), 0) FROM rewards WHERE credited_at IS NOT NULL) AS rewards,
      (SELECT COALESCE(SUM(available_micros), 0) FROM journal WHERE type = 'receive') AS received,
      CASE WHEN c.billing = 'prepaid' THEN (SELECT COALESCE(SUM(cost_micros), 0) FROM usage) ELSE 0 END AS charges,
      (SELECT COALESCE(SUM(amount_micros), 0) FROM transfers_out) AS sent,
      (SELECT COALESCE(SUM(fee_micros), 0) FROM transfers_out) AS fees,
      (SELECT COALESCE(-SUM(staked_micros), 0) FROM journal WHERE type = 'slash') AS slashed,
      (SELECT COALESCE(SUM(amount_micros), 0) FROM transfers_out WHERE delivered_at IS NULL) AS in_flight
    FROM customer c WHERE c.id = 1`[0];
  return row ? { ...row } : null;
}

/** Whether the account's holdings equal its inflows less its outflows. */
export const accountBalances = (f: AccountFigures) => f.available + f.staked + f.pending === f.credits + f.rewards + f.received - f.charges - f.sent - f.fees - f.slashed;
