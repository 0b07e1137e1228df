import type { Failure } from "../../domain/errors";
import type { TaskOutcome } from "../../domain/protocol/run-task";
import type { CompletionResponse } from "../../domain/schemas/completion";
import type { Submitted } from "../../domain/sessions/types";
import { completionOf, consensusShortfall, outcomeError } from "./outcome";
import { storedError } from "./schema";
import { completionToStore } from "./stored-text";
import type { ReservedKeys, TaskPayloads } from "./task-payloads";
import type { SlotReport } from "./pending-reports";
import type { Configured, TaskPlan } from "./task-plan";
import type { TaskStore } from "./task-store";

type Deps = { store: TaskStore; payloads: TaskPayloads; now: () => number; threshold: number; embedding: string };
/** What a committed task pays its miners (the caller's reward policy), decided before the commit so that the task's row says it in the same statement. */
type Settle<T> = (completion: CompletionResponse, winnerSlot: number) => { due: T; paidMicros: number };

/**
 * A decided task's answer, recorded: the committed completion (its result
 * stored off-chain for v2/v3, sealed for private sessions), or the error it
 * ended with. A task that never reached a miner leaves nothing behind, so
 * its request id can run again once miners are back.
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
  },
): Promise<{ result: Submitted | Failure; due?: T }> {
  const { store, payloads } = deps;
  const { taskId, session, plan, outcome } = task;
  const ref = { id: session.id, private: session.config.private };
  if (outcome.status === "failed" && outcome.reason === "no_miners" && outcome.slots.length === 0) {
    store.discard(taskId);
    await payloads.discardTask(taskId, task.keys);
    return { result: outcomeError(outcome, taskId, session.config.model).toFailure() };
  }
  let result: Submitted | Failure;
  let due: T | undefined;
  // Callers that aggregate the runs themselves (validate, factcheck) vote on their own terms.
  const shortfall =
    outcome.status === "committed" && !plan.collect ? consensusShortfall(outcome, { taskId, redundancy: plan.redundancy, policy: session.config.consensus_policy }) : null;
  if (shortfall) {
    store.fail(taskId, "failed", storedError(shortfall), outcome.slots, task.reports());
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
    // One statement for the task's row: its status, result, result URN and what it paid its miners.
    const sealed = await payloads.seal(ref, taskId, stored.value);
    store.commit(taskId, outcome.slots, { json: sealed, textSlot: stored.textSlot, resultUrn, rewardMicros: settlement.paidMicros }, task.reports());
    result = { ok: true, completion, replayed: false };
  } else {
    const error = outcomeError(outcome, taskId, session.config.model);
    store.fail(taskId, outcome.status === "timed_out" ? "timed_out" : "failed", storedError(error), [], task.reports());
    result = error.toFailure();
  }
  // Only v2/v3 tasks have payloads (their prompt, result, off-chain deliveries): their rows, the reserved keys' among them,
  // expire the retention period after the end, in the turn that records it.
  if (task.payloadVersion) payloads.expireTask(taskId, deps.now());
  return due === undefined ? { result } : { result, due };
}
