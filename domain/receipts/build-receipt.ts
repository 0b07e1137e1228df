import { majority } from "../consensus/agreement.ts";
import { consensusStatus } from "../consensus/status.ts";
import { isoTime } from "../iso-time.ts";
import type { SignaturePolicy } from "../miners/signed-call.ts";
import type { Slot, TaskOutcome } from "../protocol/run-task.ts";
import { RECEIPT_VERSION, type ReceiptBody, type ReceiptMiner } from "./receipt-schema.ts";

/** Every miner's part as it stood when the task was decided (late results go on changing the slots afterwards). */
export type ReceiptSnapshot = { outcome: TaskOutcome["status"]; miners: ReceiptMiner[]; chosen: ReceiptBody["chosen"]; agreed: number };

const statusOf = (s: Slot): ReceiptMiner["status"] => (s.state === "precommitted" ? "committed" : s.state === "assigned" || s.state === "acked" ? "pending" : s.state);

/** Whether the task left a record to give a receipt for (a task no miner took is forgotten, so its request id can run again). */
export const hasReceipt = (outcome: TaskOutcome) => !(outcome.status === "failed" && outcome.reason === "no_miners" && outcome.slots.length === 0);

/**
 * Taken synchronously when the outcome is known. `withText`: public sessions
 * carry each counted output, so the receipt verifies on its own; private ones
 * carry hashes only.
 */
export function receiptSnapshot(outcome: TaskOutcome, withText: boolean): ReceiptSnapshot {
  const counted = outcome.status === "committed" ? outcome.agreement.similarityToWinner : {};
  const miners = outcome.slots.map((s): ReceiptMiner => {
    const inConsensus = String(s.slot) in counted;
    const answered = inConsensus && s.output !== undefined && s.hash !== undefined;
    return {
      slot: s.slot,
      miner_id: s.miner.id,
      address: s.miner.address ?? null,
      status: answered ? "committed" : s.state === "precommitted" ? "pending" : statusOf(s),
      fault: s.fault ?? null,
      counted: answered,
      precommit_hash: answered ? (s.hash ?? null) : null,
      precommitted_at: answered && s.output ? isoTime(s.startedAt + s.output.latencyMs) : null,
      signature: answered ? (s.output?.signature ?? null) : null,
      signature_status: answered ? (s.output?.signatureStatus ?? null) : null,
      similarity: answered ? (s.similarity ?? null) : null,
      agreed: answered ? (s.agreed ?? false) : null,
      ...(answered && withText && s.output ? { output: s.output.text } : {}),
      ...(s.miner.probation ? { probation: true as const } : {}),
    };
  });
  if (outcome.status !== "committed") return { outcome: outcome.status, miners, chosen: null, agreed: 0 };
  return {
    outcome: "committed",
    miners,
    chosen: { slot: outcome.winner.slot, output_hash: outcome.winner.hash },
    agreed: outcome.agreement.agreedIds.length,
  };
}

/** The receipt's body, to be signed (`router-signer.ts`). `answered`: whether the client got the chosen output (not refused by the consensus policy). */
export function receiptBody(input: {
  router: string;
  sessionId: number;
  taskId: number;
  requestHash: string;
  private: boolean;
  snapshot: ReceiptSnapshot;
  answered: boolean;
  redundancy: number;
  threshold: number;
  embedding: string;
  signatures: SignaturePolicy;
  now: number;
}): ReceiptBody {
  const { snapshot } = input;
  const outcome = snapshot.outcome === "committed" ? (input.answered ? "answered" : "consensus_not_reached") : snapshot.outcome;
  return {
    version: RECEIPT_VERSION,
    router: input.router,
    session_id: input.sessionId,
    task_id: input.taskId,
    request_hash: input.requestHash,
    private: input.private,
    outcome,
    issued_at: isoTime(input.now),
    consensus: {
      redundancy: input.redundancy,
      quorum: majority(input.redundancy),
      threshold: input.threshold,
      embedding: input.embedding,
      signatures: input.signatures,
      agreed: snapshot.agreed,
      status: snapshot.outcome === "committed" ? consensusStatus(snapshot.agreed, snapshot.miners.filter((m) => m.counted).length, input.redundancy) : null,
    },
    miners: snapshot.miners,
    chosen: snapshot.chosen,
  };
}
