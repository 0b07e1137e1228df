import type { Hex } from "viem";
import type { SessionConfig } from "../../domain/schemas/session";
import type { Slot, TaskOutcome } from "../../domain/protocol/run-task";
import { hasReceipt, receiptBody, receiptSnapshot, type ReceiptSnapshot } from "../../domain/receipts/build-receipt";
import { type Receipt, type ReceiptBody, ReceiptBodySchema } from "../../domain/receipts/receipt-schema";
import { routerSigner, signReceipt } from "../../domain/receipts/router-signer";
import type { Sql } from "../sqlite-object";
import { receiptToStore, withOutputs } from "./stored-text";
import type { StoredReceipt } from "./task-store";

/** `threshold`: the one the task was judged by, where the caller's configuration set it (run-time settings). */
type Task = { sessionId: number; taskId: number; requestHash: string; redundancy: number; config: Pick<SessionConfig, "private" | "signatures">; threshold?: number };

/** A task's receipt as built with its outcome: its body (to anchor) and the value its task's row stores (`TaskStore`). */
export type BuiltReceipt = { body: ReceiptBody; stored: StoredReceipt };

/**
 * Each ended task's receipt (`domain/receipts/`). The miners' parts are
 * taken the moment the task is decided (late results change the slots
 * afterwards); the body is written with the task's outcome, in the same
 * statement of its row (`tasks.receipt`), and signed on its first read.
 * Signing costs a few milliseconds of CPU (secp256k1 in JavaScript) that
 * most tasks would spend for a receipt nobody reads; the signature is
 * deterministic (RFC 6979), so signing on read gives the receipt it would
 * have had. A private session's holds hashes only, so it is stored as is; a
 * public one's miners' outputs are the texts their assignments hold, so it
 * is stored without them and they are read back from there
 * (`stored-text.ts`). Receipts written before `tasks.receipt` stay in the
 * `receipts` table, read when the task's row holds none.
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

  /** Synchronously, as the task is decided; null for a task that leaves no record. */
  snapshot(outcome: TaskOutcome, isPrivate: boolean): ReceiptSnapshot | null {
    return hasReceipt(outcome) ? receiptSnapshot(outcome, !isPrivate) : null;
  }

  /**
   * The receipt's body, and the value to store, for the write that records the outcome (synchronously, right before it:
   * `slots` are what it writes to their assignments).
   */
  build(task: Task, snapshot: ReceiptSnapshot, answered: boolean, slots: readonly Slot[]): BuiltReceipt {
    const body = receiptBody({
      ...task,
      private: task.config.private,
      signatures: task.config.signatures,
      router: this.router,
      snapshot,
      answered,
      threshold: task.threshold ?? this.settings.threshold,
      embedding: this.settings.embedding,
      now: this.now(),
    });
    const stored = receiptToStore(body, slots);
    return { body, stored: { json: JSON.stringify(stored.value), outputsInAssignments: stored.outputsInAssignments } };
  }

  /** The signed receipt, signed now if this is its first read. */
  async get(taskId: number): Promise<Receipt | null> {
    type Row = { body: string; router_signature: string | null; outputs_in_assignments: number };
    const inTask = this.sql<Row>`
      SELECT receipt AS body, receipt_signature AS router_signature, receipt_outputs_in_assignments AS outputs_in_assignments
      FROM tasks WHERE task_id = ${taskId} AND receipt IS NOT NULL`[0];
    const row = inTask ?? this.sql<Row>`SELECT body, router_signature, outputs_in_assignments FROM receipts WHERE task_id = ${taskId}`[0];
    if (!row) return null;
    const outputs = row.outputs_in_assignments
      ? new Map(this.sql<{ slot: number; output: string | null }>`SELECT slot, output FROM assignments WHERE task_id = ${taskId}`.map((a) => [a.slot, a.output]))
      : null;
    const body = ReceiptBodySchema.parse(outputs ? withOutputs(JSON.parse(row.body), outputs) : JSON.parse(row.body));
    if (row.router_signature) return { ...body, router_signature: row.router_signature };
    const receipt = await signReceipt(body, routerSigner(this.settings.signerKey));
    if (inTask) this.sql`UPDATE tasks SET receipt_signature = ${receipt.router_signature} WHERE task_id = ${taskId}`;
    else this.sql`UPDATE receipts SET router_signature = ${receipt.router_signature} WHERE task_id = ${taskId}`;
    return receipt;
  }
}
