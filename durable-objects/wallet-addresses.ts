import type { Sql } from "./sqlite-object";

/**
 * The EVM addresses wallet accounts are reached by, kept in the registry
 * next to the miners' addresses, so one object decides every address:
 * a `send` to `0x…` reaches the payout account of the miner holding that
 * `evm_address`, else the customer that proved the address for its account
 * (workers/wallet/account-address-proof.ts). An address is one holder's:
 * a customer may not register a miner's address, nor a miner one a customer
 * holds (`addressHolder`), and nothing is reached by an address nobody proved.
 */
export const WALLET_ADDRESSES_MIGRATION = `CREATE TABLE account_addresses (
     address TEXT PRIMARY KEY,
     customer_id TEXT NOT NULL,
     registered_at INTEGER NOT NULL
   );
   CREATE INDEX account_addresses_customer ON account_addresses (customer_id);`;

/** Where a `0x…` recipient leads: a customer's account, a miner without a payout account, or nobody. */
export type AddressAccount = { account: string; holder: "miner" | "customer" } | { account: null; holder: "miner" } | null;

/** Who holds `address` (any case): the miner registered with it first, then a customer that proved it. */
export function addressAccount(sql: Sql, address: string): AddressAccount {
  const miner = sql<{ payout_account: string | null }>`SELECT payout_account FROM miners WHERE lower(evm_address) = lower(${address})`[0];
  if (miner) return miner.payout_account ? { account: miner.payout_account, holder: "miner" } : { account: null, holder: "miner" };
  const customer = sql<{ customer_id: string }>`SELECT customer_id FROM account_addresses WHERE address = lower(${address})`[0];
  return customer ? { account: customer.customer_id, holder: "customer" } : null;
}

/** The customer holding `address` for its account, if any (a miner registering it is refused). */
export function customerHoldingAddress(sql: Sql, address: string): string | null {
  return sql<{ customer_id: string }>`SELECT customer_id FROM account_addresses WHERE address = lower(${address})`[0]?.customer_id ?? null;
}

/** Why a customer's address registration was refused. */
export type AccountAddressRefusal = { refused: "address_taken" | "challenge_used" };

/**
 * Registers `address` for `customerId`, using up the proof's challenge in
 * the same turn (so a proof registers once, even when two requests race
 * with it). Refused when a miner or another customer holds the address.
 * Registering an address the account already holds again is allowed.
 */
export function registerAccountAddress(
  sql: Sql,
  input: { address: string; customerId: string; nonce: string },
  now: number,
): { address: string; customer_id: string; registered_at: number } | AccountAddressRefusal {
  const held = addressAccount(sql, input.address);
  if (held && (held.holder === "miner" || held.account !== input.customerId)) return { refused: "address_taken" };
  const used = sql`UPDATE address_challenges SET used_at = ${now} WHERE nonce = ${input.nonce} AND used_at IS NULL AND expires_at > ${now} RETURNING nonce`;
  if (used.length !== 1) return { refused: "challenge_used" };
  sql`INSERT INTO account_addresses (address, customer_id, registered_at) VALUES (lower(${input.address}), ${input.customerId}, ${now})
      ON CONFLICT (address) DO NOTHING`;
  const row = sql<{ registered_at: number }>`SELECT registered_at FROM account_addresses WHERE address = lower(${input.address})`[0];
  return { address: input.address.toLowerCase(), customer_id: input.customerId, registered_at: row?.registered_at ?? now };
}

/** The addresses a customer registered for its account, lowercase, oldest first. */
export function accountAddresses(sql: Sql, customerId: string): string[] {
  return sql<{ address: string }>`SELECT address FROM account_addresses WHERE customer_id = ${customerId} ORDER BY registered_at, address`.map((r) => r.address);
}
