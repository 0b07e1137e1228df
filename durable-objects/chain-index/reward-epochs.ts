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

  /**
   * The settlement round the next epoch settles under (reward-close.ts):
   * the one a previous, unfinished close chose (a crash or a failed Ledger
   * between settling and sealing), else `next`. Kept until an epoch is
   * sealed past it, so a retry asks the Ledgers the same round and they
   * answer what they moved then.
   */
  async round(next: number): Promise<number> {
    const planned = await this.storage.get<number>(SETTLING_ROUND_KEY);
    const round = planned !== undefined && planned > (this.last()?.epoch ?? 0) ? planned : next;
    if (round !== planned) await this.storage.put(SETTLING_ROUND_KEY, round);
    return round;
  }
}

const SETTLING_ROUND_KEY = "reward_settling_round";

/**
 * The next epoch's entries: each address's amount in the last epoch plus
 * what this round moved out of the ledger for it (settled, reward-earnings.ts),
 * so a leaf never exceeds what left the ledger for its address. Every
 * address an earlier epoch posted stays in the tree, so its proof keeps
 * working. Zero amounts are left out.
 */
export function settledEntries(previous: readonly EpochEntry[], moved: readonly { address: Address; minerId: string; movedMicros: number }[]): EpochEntry[] {
  const byAddress = new Map<string, EpochEntry>();
  for (const p of previous) byAddress.set(p.address.toLowerCase(), { ...p, address: p.address.toLowerCase() as Address });
  for (const m of moved) {
    if (m.movedMicros <= 0) continue;
    const key = m.address.toLowerCase();
    const p = byAddress.get(key);
    byAddress.set(key, { address: key as Address, minerId: m.minerId, cumulativeMicros: (p?.cumulativeMicros ?? 0) + m.movedMicros });
  }
  return [...byAddress.values()].filter((e) => e.cumulativeMicros > 0).sort((a, b) => (a.address < b.address ? -1 : 1));
}

/** Whether two epochs' entries post the same amounts (then no new epoch is worth its gas). */
export const sameEntries = (a: readonly EpochEntry[], b: readonly EpochEntry[]) =>
  a.length === b.length && a.every((e, i) => e.address.toLowerCase() === b[i]?.address.toLowerCase() && e.cumulativeMicros === b[i]?.cumulativeMicros);
