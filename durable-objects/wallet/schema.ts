/**
 * The Ledger's wallet tables (migration 3 of durable-objects/ledger.ts).
 * `customer.balance_micros` stays the available balance (what admission
 * and billing read); the stake and the unstakes in cooldown are held here,
 * and every change of any of the three is a `journal` row with its deltas.
 * Accounts that existed before get one `credit` row for their balance not
 * explained by rewards and charges, so that their figures add up.
 */
export const WALLET_MIGRATION = `
  ALTER TABLE customer ADD COLUMN listed_at INTEGER;
  CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    ref TEXT,
    available_micros INTEGER NOT NULL DEFAULT 0,
    staked_micros INTEGER NOT NULL DEFAULT 0,
    pending_micros INTEGER NOT NULL DEFAULT 0,
    counterparty TEXT,
    memo TEXT,
    details TEXT,
    at INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS journal_ref ON journal (type, ref);
  CREATE INDEX IF NOT EXISTS journal_at ON journal (at);
  CREATE TABLE IF NOT EXISTS transfers_out (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT UNIQUE,
    to_account TEXT NOT NULL,
    amount_micros INTEGER NOT NULL,
    fee_micros INTEGER NOT NULL,
    memo TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS transfers_out_undelivered ON transfers_out (next_attempt_at) WHERE delivered_at IS NULL;
  CREATE TABLE IF NOT EXISTS stake (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    amount_micros INTEGER NOT NULL,
    duration_days INTEGER NOT NULL,
    multiplier_bps INTEGER NOT NULL,
    start_at INTEGER NOT NULL,
    unlock_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS unstakes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    amount_micros INTEGER NOT NULL,
    requested_at INTEGER NOT NULL,
    available_at INTEGER NOT NULL,
    released_at INTEGER
  );
  INSERT INTO journal (type, available_micros, memo, at)
    SELECT 'credit', opening, 'balance before the journal', created_at FROM (
      SELECT balance_micros
               - (SELECT COALESCE(SUM(amount_micros), 0) FROM rewards)
               + CASE WHEN billing = 'prepaid' THEN (SELECT COALESCE(SUM(cost_micros), 0) FROM usage) ELSE 0 END AS opening,
             created_at
      FROM customer WHERE id = 1
    ) WHERE opening != 0;`;
