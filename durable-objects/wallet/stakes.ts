import type { Sql } from "../sqlite-object";
import { slashAmount } from "../../domain/wallet/stake-weight";
import { journal, journalEntry } from "./journal";

export type StakeRow = { amount_micros: number; duration_days: number; multiplier_bps: number; start_at: number; unlock_at: number };
type UnstakeRow = { id: number; amount_micros: number; requested_at: number; available_at: number; released_at: number | null };

export const DAY_MS = 86_400_000;
/** When a lock of `durationDays` from `now` ends. */
export const unlockAt = (now: number, durationDays: number) => now + durationDays * DAY_MS;

/**
 * The account's stake (one position) and its unstakes in cooldown. Staking
 * moves available → staked, locked until the unlock date; an unstake after
 * it moves staked → pending for the cooldown; a release moves pending →
 * available once the cooldown is over; a slash removes a share of the stake.
 * Each is a journal entry in the caller's transaction. Times come from the
 * caller (`now`), never from the clock here.
 */
export class Stakes {
  constructor(private readonly sql: Sql) {}

  current(): StakeRow | undefined {
    return this.sql<StakeRow>`SELECT amount_micros, duration_days, multiplier_bps, start_at, unlock_at FROM stake WHERE id = 1`[0];
  }

  pendingMicros(): number {
    return this.sql<{ n: number }>`SELECT COALESCE(SUM(amount_micros), 0) AS n FROM unstakes WHERE released_at IS NULL`[0]?.n ?? 0;
  }

  /** Adds to the stake and locks all of it for `durationDays` from now. The caller checked the balance and that the lock does not shorten. */
  stake(amountMicros: number, durationDays: number, multiplierBps: number, now: number): StakeRow {
    const until = unlockAt(now, durationDays);
    this.sql`INSERT INTO stake (id, amount_micros, duration_days, multiplier_bps, start_at, unlock_at)
             VALUES (1, ${amountMicros}, ${durationDays}, ${multiplierBps}, ${now}, ${until})
             ON CONFLICT (id) DO UPDATE SET amount_micros = amount_micros + excluded.amount_micros, duration_days = excluded.duration_days,
               multiplier_bps = excluded.multiplier_bps, start_at = excluded.start_at, unlock_at = excluded.unlock_at`;
    journal(this.sql, {
      type: "stake",
      ref: null,
      available_micros: -amountMicros,
      staked_micros: amountMicros,
      details: { duration_days: durationDays, multiplier_bps: multiplierBps, unlock_at: until },
      at: now,
    });
    const row = this.current();
    if (!row) throw new Error("stake row missing after staking");
    return row;
  }

  /** Moves `amountMicros` of an unlocked stake into cooldown until `now + cooldownMs`. The caller checked amount and unlock date. */
  unstake(amountMicros: number, cooldownMs: number, now: number): { availableAt: number } {
    const availableAt = now + cooldownMs;
    this.sql`UPDATE stake SET amount_micros = amount_micros - ${amountMicros} WHERE id = 1`;
    this.sql`DELETE FROM stake WHERE id = 1 AND amount_micros = 0`;
    const [row] = this.sql<{ id: number }>`INSERT INTO unstakes (amount_micros, requested_at, available_at) VALUES (${amountMicros}, ${now}, ${availableAt}) RETURNING id`;
    journal(this.sql, {
      type: "unstake",
      ref: `unstake:${row?.id}`,
      staked_micros: -amountMicros,
      pending_micros: amountMicros,
      details: { available_at: availableAt },
      at: now,
    });
    return { availableAt };
  }

  /** Returns every unstake whose cooldown is over to the available balance; how many. */
  releaseDue(now: number): number {
    const due = this.sql<UnstakeRow>`SELECT * FROM unstakes WHERE released_at IS NULL AND available_at <= ${now} ORDER BY id`;
    for (const u of due) {
      this.sql`UPDATE unstakes SET released_at = ${now} WHERE id = ${u.id}`;
      journal(this.sql, {
        type: "release",
        ref: `unstake:${u.id}`,
        available_micros: u.amount_micros,
        pending_micros: -u.amount_micros,
        details: { requested_at: u.requested_at },
        at: u.available_at,
      });
    }
    return due.length;
  }

  /** When the next cooldown ends; null with none running. */
  dueAt(): number | null {
    return this.sql<{ at: number | null }>`SELECT MIN(available_at) AS at FROM unstakes WHERE released_at IS NULL`[0]?.at ?? null;
  }

  /**
   * Removes `shareBps` / 10000 of the stake (rounded down), at least
   * `minMicros` and at most the stake (`slashAmount`), once per key: a key
   * seen before answers what it took then. Recorded even when nothing is
   * staked, so that a later stake never pays for an old key.
   */
  slash(key: string, shareBps: number, minMicros: number, now: number): { slashedMicros: number; replayed: boolean } {
    const before = journalEntry(this.sql, "slash", key);
    // `0 - x`, not `-x`: no negative zero for a slash that took nothing.
    if (before) return { slashedMicros: 0 - before.staked_micros, replayed: true };
    const staked = this.current()?.amount_micros ?? 0;
    const slashed = slashAmount(staked, shareBps, minMicros);
    if (slashed > 0) {
      this.sql`UPDATE stake SET amount_micros = amount_micros - ${slashed} WHERE id = 1`;
      this.sql`DELETE FROM stake WHERE id = 1 AND amount_micros = 0`;
    }
    journal(this.sql, { type: "slash", ref: key, staked_micros: 0 - slashed, details: { share_bps: shareBps }, at: now });
    return { slashedMicros: slashed, replayed: false };
  }
}
