import type { Address, Hex } from "viem";
import { type AddressEarnings, earningsTree } from "../../domain/chain/reward-distributor";
import type { Sql } from "../sqlite-object";

export type EpochRow = {
  epoch: number;
  root: string;
  total_micros: number;
  addresses: number;
  sealed_at: number;
  tx_hash: string | null;
  block_number: number | null;
  attempts: number;
  last_error: string | null;
};
type LeafRow = { epoch: number; address: string; miner_id: string; cumulative_micros: number; proof: string };

/** An address's earnings as an epoch sealed them, with the miner they were read from. */
export type EpochEntry = AddressEarnings & { minerId: string };

/** What a miner needs to claim: the last posted epoch's root, its cumulative amount there and its proof. */
export type RewardClaim = { address: string; miner_id: string; epoch: number; root: string; cumulative_micros: number; proof: string[]; transaction: string };

/**
 * The reward epochs of one RewardDistributor (domain/chain/reward-distributor.ts).
 * An epoch is sealed (its root, every address's amount and proof, in one
 * transaction) before its root is sent, and at most one sealed epoch waits
 * unsent: a post retried after a failure sends the same root as the same
 * epoch (renumbered only when the chain is past it), never a second one.
 */
export class RewardEpochs {
  constructor(
    private readonly sql: Sql,
    private readonly storage: DurableObjectStorage,
  ) {}

  unsent(): EpochRow | null {
    return this.sql<EpochRow>`SELECT * FROM reward_epochs WHERE tx_hash IS NULL ORDER BY epoch LIMIT 1`[0] ?? null;
  }

  last(): EpochRow | null {
    return this.sql<EpochRow>`SELECT * FROM reward_epochs ORDER BY epoch DESC LIMIT 1`[0] ?? null;
  }

  lastPosted(): EpochRow | null {
    return this.sql<EpochRow>`SELECT * FROM reward_epochs WHERE tx_hash IS NOT NULL ORDER BY epoch DESC LIMIT 1`[0] ?? null;
  }

  entries(epoch: number): EpochEntry[] {
    return this.sql<LeafRow>`SELECT * FROM reward_leaves WHERE epoch = ${epoch} ORDER BY address`.map((r) => ({
      address: r.address as Address,
      minerId: r.miner_id,
      cumulativeMicros: r.cumulative_micros,
    }));
  }

  /** Seals `entries` as epoch `epoch`: its root and each address's proof. Null: no entries. */
  seal(epoch: number, entries: readonly EpochEntry[], now: number): EpochRow | null {
    const tree = earningsTree(entries);
    if (!tree) return null;
    this.storage.transactionSync(() => {
      this.sql`INSERT INTO reward_epochs (epoch, root, total_micros, addresses, sealed_at) VALUES (${epoch}, ${tree.root}, ${tree.totalMicros}, ${entries.length}, ${now})`;
      for (const e of entries) {
        const address = e.address.toLowerCase() as Address;
        this.sql`INSERT INTO reward_leaves (epoch, address, miner_id, cumulative_micros, proof)
                 VALUES (${epoch}, ${address}, ${e.minerId}, ${e.cumulativeMicros}, ${JSON.stringify(tree.proofs.get(address) ?? [])})`;
      }
    });
    return this.sql<EpochRow>`SELECT * FROM reward_epochs WHERE epoch = ${epoch}`[0] ?? null;
  }

  /** A sealed, unsent epoch takes the number after the chain's (its root and proofs stay). */
  renumber(from: number, to: number): void {
    this.storage.transactionSync(() => {
      this.sql`UPDATE reward_epochs SET epoch = ${to} WHERE epoch = ${from} AND tx_hash IS NULL`;
      this.sql`UPDATE reward_leaves SET epoch = ${to} WHERE epoch = ${from}`;
    });
  }

  sent(epoch: number, transaction: Hex, blockNumber: number): void {
    this.sql`UPDATE reward_epochs SET tx_hash = ${transaction}, block_number = ${blockNumber}, last_error = NULL WHERE epoch = ${epoch}`;
  }

  failed(epoch: number, error: string): void {
    this.sql`UPDATE reward_epochs SET attempts = attempts + 1, last_error = ${error} WHERE epoch = ${epoch}`;
  }

  /** Each address's claim under the last posted epoch (addresses not in it: absent). */
  claims(addresses: readonly string[]): RewardClaim[] {
    const posted = this.lastPosted();
    if (!posted?.tx_hash) return [];
    const out: RewardClaim[] = [];
    for (const a of addresses) {
      const leaf = this.sql<LeafRow>`SELECT * FROM reward_leaves WHERE epoch = ${posted.epoch} AND address = ${a.toLowerCase()}`[0];
      if (!leaf) continue;
      out.push({
        address: leaf.address,
        miner_id: leaf.miner_id,
        epoch: posted.epoch,
        root: posted.root,
        cumulative_micros: leaf.cumulative_micros,
        proof: JSON.parse(leaf.proof) as string[],
        transaction: posted.tx_hash,
      });
    }
    return out;
  }

  epochs(): EpochRow[] {
    return this.sql<EpochRow>`SELECT * FROM reward_epochs ORDER BY epoch`;
  }
}

/**
 * The next epoch's entries: each claimable miner's cumulative earnings now,
 * never below what an earlier epoch posted for its address (a posted amount
 * may already be claimed; a lower one would strand nothing on chain but
 * would misstate it), and every address an earlier epoch posted stays in
 * the tree, so its proof keeps working. Zero amounts are left out.
 */
export function nextEntries(previous: readonly EpochEntry[], current: readonly EpochEntry[]): EpochEntry[] {
  const byAddress = new Map<string, EpochEntry>();
  for (const p of previous) byAddress.set(p.address.toLowerCase(), p);
  for (const c of current) {
    const key = c.address.toLowerCase();
    const p = byAddress.get(key);
    if (!p || c.cumulativeMicros > p.cumulativeMicros) byAddress.set(key, { ...c, address: key as Address });
  }
  return [...byAddress.values()].filter((e) => e.cumulativeMicros > 0).sort((a, b) => (a.address < b.address ? -1 : 1));
}

/** Whether two epochs' entries post the same amounts (then no new epoch is worth its gas). */
export const sameEntries = (a: readonly EpochEntry[], b: readonly EpochEntry[]) =>
  a.length === b.length && a.every((e, i) => e.address.toLowerCase() === b[i]?.address.toLowerCase() && e.cumulativeMicros === b[i]?.cumulativeMicros);
