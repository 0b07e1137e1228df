import type { Failure } from "../../domain/errors";
import type { ReceiptBody } from "../../domain/receipts/receipt-schema";
import type { TaskOutcome } from "../../domain/protocol/run-task";
import type { CompletionResponse } from "../../domain/schemas/completion";
import type { Submitted } from "../../domain/sessions/types";
import { completionOf, consensusShortfall, outcomeError } from "./outcome";
import { storedError } from "./schema";
import { completionToStore } from "./stored-text";
import type { ReservedKeys, TaskPayloads } from "./task-payloads";
import type { BuiltReceipt } from "./task-receipts";
import type { SlotReport } from "./pending-reports";
import type { Configured, TaskPlan } from "./task-plan";
import type { TaskStore } from "./task-store";

type Deps = { store: TaskStore; payloads: TaskPayloads; now: () => number; threshold: number; embedding: string };
/** What a committed task pays its miners (the caller's reward policy), decided before the commit so that the task's row says it in the same statement. */
type Settle<T> = (completion: CompletionResponse, winnerSlot: number) => { due: T; paidMicros: number };

/**
 * A decided task's answer, recorded: the committed completion (its result
 * stored off-chain for v2/v3, sealed for private sessions), or the error it
 * ended with, and its receipt, in the same statement of the task's row. A
 * task that never reached a miner leaves nothing behind, so its request id
 * can run again once miners are back.
 */
export async function recordOutcome<T>(
  deps: Deps,
  task: {
    taskId: number;
    session: Configured;
    plan: TaskPlan;
    outcome: TaskOutcome;
    requestId: string | null;
    promptUrn: string | null;
    /** A v2/v3 task's reserved keys: its result goes to R2 under one, its row already written. */
    keys: ReservedKeys | null;
    payloadVersion: "v2" | "v3" | undefined;
    settle: Settle<T>;
    /** The ended slots' reports, taken right before the write that records the outcome (which writes them, in their slots' rows). */
    reports: () => readonly SlotReport[];
    /** The task's receipt, built right before the write that records the outcome (`answered`: the client got the answer); null: none. */
    receipt: (answered: boolean) => BuiltReceipt | null;
  },
): Promise<{ result: Submitted | Failure; due?: T; receipt: ReceiptBody | null }> {
  const { store, payloads } = deps;
  const { taskId, session, plan, outcome } = task;
  const ref = { id: session.id, private: session.config.private };
  if (outcome.status === "failed" && outcome.reason === "no_miners" && outcome.slots.length === 0) {
    store.discard(taskId);
    await payloads.discardTask(taskId, task.keys);
    return { result: outcomeError(outcome, taskId, session.config.model).toFailure(), receipt: null };
  }
  let result: Submitted | Failure;
  let due: T | undefined;
  let receipt: BuiltReceipt | null;
  // Callers that aggregate the runs themselves (validate, factcheck) vote on their own terms.
  const shortfall =
    outcome.status === "committed" && !plan.collect ? consensusShortfall(outcome, { taskId, redundancy: plan.redundancy, policy: session.config.consensus_policy }) : null;
  if (shortfall) {
    receipt = task.receipt(false);
    store.fail(taskId, "failed", storedError(shortfall), outcome.slots, task.reports(), receipt?.stored);
    result = shortfall.toFailure();
  } else if (outcome.status === "committed") {
    let completion = completionOf({
      sessionId: session.id,
      taskId,
      requestId: task.requestId,
      model: session.config.model,
      kind: plan.request.kind,
      request: plan.request,
      outcome,
      redundancy: plan.redundancy,
      threshold: deps.threshold,
      embedding: deps.embedding,
      collect: plan.collect,
      created: deps.now(),
    });
    let resultUrn: string | null = null;
    if (task.payloadVersion && task.promptUrn && task.keys) {
      resultUrn = (await payloads.storeReserved(ref, taskId, task.payloadVersion, "result", outcome.winner.output.text, task.keys).catch(() => null))?.urn ?? null;
      completion = { ...completion, prompt_urn: task.promptUrn, result_urn: resultUrn, encrypted: session.config.private };
    }
    // Public: the answer's text is the winner's assignment's output, written in this same commit (stored-text.ts).
    const winner = outcome.slots.find((s) => s.slot === outcome.winner.slot);
    const stored = session.config.private || !winner ? { value: completion, textSlot: null } : completionToStore(completion, winner);
    const settlement = task.settle(completion, outcome.winner.slot);
    due = settlement.due;
    // One statement for the task's row: its status, result, result URN, what it paid its miners and its receipt.
    const sealed = await payloads.seal(ref, taskId, stored.value);
    receipt = task.receipt(true);
    const row = { json: sealed, textSlot: stored.textSlot, resultUrn, rewardMicros: settlement.paidMicros, receipt: receipt?.stored ?? null };
    store.commit(taskId, outcome.slots, row, task.reports());
    result = { ok: true, completion, replayed: false };
  } else {
    const error = outcomeError(outcome, taskId, session.config.model);
    receipt = task.receipt(false);
    store.fail(taskId, outcome.status === "timed_out" ? "timed_out" : "failed", storedError(error), [], task.reports(), receipt?.stored);
    result = error.toFailure();
  }
  // Only v2/v3 tasks have payloads (their prompt, result, off-chain deliveries): their rows, the reserved keys' among them,
  // expire the retention period after the end, in the turn that records it.
  if (task.payloadVersion) payloads.expireTask(taskId, deps.now());
  return due === undefined ? { result, receipt: receipt?.body ?? null } : { result, due, receipt: receipt?.body ?? null };
}
