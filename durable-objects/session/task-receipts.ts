import type { Hex } from "viem";
import type { SignaturePolicy } from "../../workers/miners/signed-call";
import type { TaskOutcome } from "../../workers/protocol/run-task";
import { hasReceipt, receiptBody, receiptSnapshot, type ReceiptSnapshot } from "../../workers/receipts/build-receipt";
import { type Receipt, ReceiptSchema } from "../../workers/receipts/receipt-schema";
import { routerSigner, signReceipt } from "../../workers/receipts/router-signer";
import type { Sql } from "../sqlite-object";

type Task = {
  sessionId: number;
  taskId: number;
  requestHash: string;
  private: boolean;
  redundancy: number;
  signatures: SignaturePolicy;
};

/**
 * Each ended task's receipt (`workers/receipts/`): the miners' parts are
 * taken when the outcome is known, the receipt is signed and stored once
 * the answer is recorded, before the client gets it. One row per task,
 * never changed; a private session's holds hashes only, so it is stored as
 * is.
 */
export class TaskReceipts {
  constructor(
    private readonly sql: Sql,
    private readonly settings: { signerKey: Hex; threshold: number; embedding: string },
    private readonly now: () => number,
  ) {}

  /** The address miners sign for and receipts are signed by. */
  get router(): string {
    return routerSigner(this.settings.signerKey).address;
  }

  /** Synchronously, as the task is decided (late results change the slots afterwards); null for a task that leaves no record. */
  snapshot(outcome: TaskOutcome, isPrivate: boolean): ReceiptSnapshot | null {
    return hasReceipt(outcome) ? receiptSnapshot(outcome, !isPrivate) : null;
  }

  async issue(task: Task, snapshot: ReceiptSnapshot, answered: boolean): Promise<void> {
    const body = receiptBody({
      ...task,
      router: this.router,
      snapshot,
      answered,
      threshold: this.settings.threshold,
      embedding: this.settings.embedding,
      now: this.now(),
    });
    const receipt = await signReceipt(body, routerSigner(this.settings.signerKey));
    this.sql`INSERT OR IGNORE INTO receipts (task_id, receipt) VALUES (${task.taskId}, ${JSON.stringify(receipt)})`;
  }

  get(taskId: number): Receipt | null {
    const row = this.sql<{ receipt: string }>`SELECT receipt FROM receipts WHERE task_id = ${taskId}`[0];
    return row ? ReceiptSchema.parse(JSON.parse(row.receipt)) : null;
  }
}
