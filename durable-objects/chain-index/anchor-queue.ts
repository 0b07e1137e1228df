import type { Hex } from "viem";
import type { AnchorTarget } from "../../domain/config/config";
import { type Anchor, merkleBatch } from "../../domain/receipts/anchor";
import type { Sql } from "../sqlite-object";

type LeafRow = { session_id: number; task_id: number; leaf: string; queued_at: number; batch: number | null; proof: string | null };
export type BatchRow = {
  batch: number;
  root: string;
  count: number;
  sealed_at: number;
  tx_hash: string | null;
  block_number: number | null;
  attempts: number;
  last_error: string | null;
};

/**
 * The receipts waiting for their anchor, and the batches sealed from them
 * (`domain/receipts/anchor.ts`). A batch is sealed (its root and every
 * leaf's proof written in one transaction) before its root is sent, and at
 * most one sealed batch waits unsent: a flush retried after a failure sends
 * the same root as the same batch number, never a second one.
 */
export class AnchorQueue {
  constructor(
    private readonly sql: Sql,
    private readonly storage: DurableObjectStorage,
  ) {}

  /** Queues a receipt's leaf; a receipt queued before keeps its place (and its leaf). */
  add(sessionId: number, taskId: number, leaf: Hex, now: number): void {
    this.sql`INSERT OR IGNORE INTO anchor_leaves (session_id, task_id, leaf, queued_at) VALUES (${sessionId}, ${taskId}, ${leaf}, ${now})`;
  }

  /** The sealed batch whose root is not on chain yet, if any. */
  unsent(): BatchRow | null {
    return this.sql<BatchRow>`SELECT * FROM anchor_batches WHERE tx_hash IS NULL ORDER BY batch LIMIT 1`[0] ?? null;
  }

  /** How many leaves wait for a batch, and since when the oldest has. */
  waiting(): { count: number; oldest: number | null } {
    const row = this.sql<{ n: number; oldest: number | null }>`SELECT COUNT(*) AS n, MIN(queued_at) AS oldest FROM anchor_leaves WHERE batch IS NULL`[0];
    return { count: row?.n ?? 0, oldest: row?.oldest ?? null };
  }

  /** When the waiting leaves are due to be sealed: at `batchSize` of them, or `intervalMs` after the oldest; null: none wait. */
  dueAt(target: Pick<AnchorTarget, "batchSize" | "intervalMs">): number | null {
    const { count, oldest } = this.waiting();
    if (count === 0 || oldest === null) return null;
    return count >= target.batchSize ? 0 : oldest + target.intervalMs;
  }

  /** Seals up to `size` waiting leaves (oldest first) as batch `batch`: its root, and each leaf's proof. */
  seal(batch: number, size: number, now: number): BatchRow | null {
    const rows = this.sql<LeafRow>`SELECT * FROM anchor_leaves WHERE batch IS NULL ORDER BY queued_at, session_id, task_id LIMIT ${size}`;
    if (rows.length === 0) return null;
    const { root, proofs } = merkleBatch(rows.map((r) => r.leaf as Hex));
    this.storage.transactionSync(() => {
      this.sql`INSERT INTO anchor_batches (batch, root, count, sealed_at) VALUES (${batch}, ${root}, ${rows.length}, ${now})`;
      for (const r of rows) {
        this
          .sql`UPDATE anchor_leaves SET batch = ${batch}, proof = ${JSON.stringify(proofs.get(r.leaf as Hex) ?? [])} WHERE session_id = ${r.session_id} AND task_id = ${r.task_id}`;
      }
    });
    return this.sql<BatchRow>`SELECT * FROM anchor_batches WHERE batch = ${batch}`[0] ?? null;
  }

  /** A sealed, unsent batch takes the number the contract expects next (its root and proofs stay). */
  renumber(from: number, to: number): void {
    this.storage.transactionSync(() => {
      this.sql`UPDATE anchor_batches SET batch = ${to} WHERE batch = ${from} AND tx_hash IS NULL`;
      this.sql`UPDATE anchor_leaves SET batch = ${to} WHERE batch = ${from}`;
    });
  }

  sent(batch: number, transaction: Hex, blockNumber: number): void {
    this.sql`UPDATE anchor_batches SET tx_hash = ${transaction}, block_number = ${blockNumber}, last_error = NULL WHERE batch = ${batch}`;
  }

  failed(batch: number, error: string): void {
    this.sql`UPDATE anchor_batches SET attempts = attempts + 1, last_error = ${error} WHERE batch = ${batch}`;
  }

  /** A receipt's anchor: null when it was never queued, pending until its batch's root is on chain. */
  anchorOf(sessionId: number, taskId: number, target: Pick<AnchorTarget, "chainId" | "anchorAddress">): Anchor | null {
    const leaf = this.sql<LeafRow>`SELECT * FROM anchor_leaves WHERE session_id = ${sessionId} AND task_id = ${taskId}`[0];
    if (!leaf) return null;
    const batch = leaf.batch === null ? null : this.sql<BatchRow>`SELECT * FROM anchor_batches WHERE batch = ${leaf.batch}`[0];
    if (!batch?.tx_hash) return { status: "pending" };
    return {
      status: "anchored",
      chain_id: target.chainId,
      contract: target.anchorAddress,
      batch: batch.batch,
      root: batch.root,
      leaf: leaf.leaf,
      proof: JSON.parse(leaf.proof ?? "[]") as string[],
      transaction: batch.tx_hash,
    };
  }

  batches(): BatchRow[] {
    return this.sql<BatchRow>`SELECT * FROM anchor_batches ORDER BY batch`;
  }
}
