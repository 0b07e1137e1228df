import { majority } from "../../workers/consensus/agreement";
import { ApiError } from "../../workers/http/errors";
import { buildCompletion } from "../../workers/protocol/build-completion";
import type { Slot, TaskOutcome } from "../../workers/protocol/run-task";
import type { CompletionResponse, MinerRecord } from "../../workers/schemas/completion";

type Committed = Extract<TaskOutcome, { status: "committed" }>;
type Unfinished = Exclude<TaskOutcome, Committed>;

const slotStatus = (s: Slot) => (s.state === "precommitted" ? "committed" : s.state === "assigned" || s.state === "acked" ? "pending" : s.state);

/** The completion a client receives for a committed task: the winner's output and every miner's record. */
export function completionOf(task: {
  sessionId: number;
  taskId: number;
  requestId: string | null;
  model: string;
  kind: "completion" | "chat";
  outcome: Committed;
  redundancy: number;
  threshold: number;
  embedding: string;
  /** Also return every run's output (for callers that aggregate runs themselves). */
  collect: boolean;
  created: number;
}): CompletionResponse {
  const { outcome } = task;
  const miners: MinerRecord[] = outcome.slots.map((s) => ({
    miner: s.miner.id,
    slot: s.slot,
    status: slotStatus(s),
    latency_ms: s.output?.latencyMs ?? null,
    precommit_hash: s.hash ?? null,
    agreed: s.state === "precommitted" ? (s.agreed ?? false) : null,
    similarity: s.similarity ?? null,
  }));
  const completion = buildCompletion({
    sessionId: task.sessionId,
    taskId: task.taskId,
    requestId: task.requestId,
    model: task.model,
    kind: task.kind,
    winner: outcome.winner,
    consensus: {
      redundancy: task.redundancy,
      quorum: majority(task.redundancy),
      agreed: outcome.agreement.agreedIds.length,
      reached: outcome.quorumReached,
      threshold: task.threshold,
      embedding: task.embedding,
    },
    miners,
    created: task.created,
  });
  if (!task.collect) return completion;
  return { ...completion, runs: outcome.slots.map((s) => ({ miner: s.miner.id, slot: s.slot, status: slotStatus(s), output: s.output?.text ?? null })) };
}

/** The error a client receives for a task that ended without a result. */
export function outcomeError(outcome: Unfinished, taskId: number, model: string): ApiError {
  if (outcome.status === "timed_out") return new ApiError(504, "timeout", `task ${taskId} got no miner result before its timeout`);
  if (outcome.reason === "no_miners") return new ApiError(503, "no_miners_available", `no healthy miner with spare capacity serves model ${model}`);
  return new ApiError(502, "miners_failed", `every miner assigned to task ${taskId} failed`, {
    miners: outcome.slots.map((s) => ({ miner: s.miner.id, status: s.state, error: s.error ?? null })),
  });
}
