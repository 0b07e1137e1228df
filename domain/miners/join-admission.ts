/**
 * The rules of a miner's self-join that need no storage and no network
 * (docs/architecture.md, "Miners joining by themselves"): how fresh a signed
 * join must be, how long its nonce is remembered, what a join does to the
 * miner already holding its address, and which wallet account stands for an
 * address that names none.
 */

/** Why a signed `issued_at` is refused (null: within ±`skewS` of now). */
export function staleReason(issuedAt: string, nowMs: number, skewS: number): string | null {
  const at = Date.parse(issuedAt);
  if (!Number.isFinite(at)) return "issued_at is not a time";
  if (Math.abs(nowMs - at) > skewS * 1000) return `issued_at is more than ${skewS} s away from the router's clock`;
  return null;
}

/**
 * Until when a used nonce must be remembered: a replay of the same signed
 * text is refused as stale from then on, so the nonce can be forgotten.
 */
export const nonceExpiry = (issuedAt: string, skewS: number): number => Date.parse(issuedAt) + skewS * 1000;

/** The registered miner holding a joining address, as the rule below needs it; `leaseExpiresAt` null: admin-registered. */
export type AddressHolder = { source: "admin" | "joined"; url: string; leaseExpiresAt: number | null };

/**
 * What a join for `url` does given the miner already holding its address:
 * - none: a new miner;
 * - a joined miner at the same URL: a renewal (same id, stats and reputation);
 * - a joined miner elsewhere whose lease lapsed (or that left): it moves there;
 * - a joined miner elsewhere still leased: refused, a second node with the same key;
 * - an admin-registered miner: refused, the operator manages that address.
 */
export function joinEffect(holder: AddressHolder | undefined, url: string, nowMs: number): "new" | "renew" | "move" | "address_taken" {
  if (!holder) return "new";
  if (holder.source === "admin") return "address_taken";
  if (holder.url === url) return "renew";
  return holder.leaseExpiresAt !== null && holder.leaseExpiresAt > nowMs ? "address_taken" : "move";
}
