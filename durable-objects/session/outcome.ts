import { majority } from "../../domain/consensus/agreement";
import { consensusStatus, requiredAgreement, type ConsensusPolicy } from "../../domain/consensus/status";
import { ApiError } from "../../domain/errors";
import { buildCompletion } from "../../domain/protocol/build-completion";
import type { Slot, TaskOutcome } from "../../domain/protocol/run-task";
import type { Consensus, CompletionResponse, MinerRecord, MinerRequest } from "../../domain/schemas/completion";

type Committed = Extract<TaskOutcome, { status: "committed" }>;
type Unfinished = Exclude<TaskOutcome, Committed>;

const slotStatus = (s: Slot) => (s.state === "precommitted" ? "committed" : s.state === "assigned" || s.state === "acked" ? "pending" : s.state);

/** Results in when the task was decided (every one was judged against the answer). */
const answeredIn = (outcome: Committed) => Object.keys(outcome.agreement.similarityToWinner).length;

/** The consensus record of a committed task: how many stood behind the answer, and the minority answers. */
export function consensusOf(outcome: Committed, task: { redundancy: number; threshold: number; embedding: string }): Consensus {
  const minerOf = new Map(outcome.slots.map((s) => [s.slot, s.miner.id]));
  const agreed = outcome.agreement.agreedIds.length;
  return {
    status: consensusStatus(agreed, answeredIn(outcome), task.redundancy),
    redundancy: task.redundancy,
    quorum: majority(task.redundancy),
    agreed,
    reached: outcome.quorumReached,
    threshold: task.threshold,
    embedding: task.embedding,
    dissent: outcome.dissent.map((d) => ({ hash: d.hash, miners: d.slots.flatMap((slot) => minerOf.get(slot) ?? []), similarity: d.similarity })),
  };
}

/** The completion a client receives for a committed task: the winner's output and every miner's record. */
export function completionOf(task: {
  sessionId: number;
  taskId: number;
  requestId: string | null;
  model: string;
  kind: "completion" | "chat";
  /** What the miners were sent: the usage is metered from it and the answer's text. */
  request: MinerRequest;
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
    fault: s.fault ?? null,
    signature: s.output?.signatureStatus ?? null,
    ...(s.miner.probation ? { probation: true as const } : {}),
  }));
  const completion = buildCompletion({
    sessionId: task.sessionId,
    taskId: task.taskId,
    requestId: task.requestId,
    model: task.model,
    kind: task.kind,
    request: task.request,
    winner: outcome.winner,
    consensus: consensusOf(outcome, task),
    miners,
    created: task.created,
  });
  if (!task.collect) return completion;
  return { ...completion, runs: outcome.slots.map((s) => ({ miner: s.miner.id, slot: s.slot, status: slotStatus(s), output: s.output?.text ?? null })) };
}

/**
 * The error for a committed task whose agreement falls short of the
 * session's consensus policy, or null when it answers. The details carry
 * what the client would otherwise have had to trust: the status, the count,
 * the answer's hash and every dissenting miner.
 */
export function consensusShortfall(outcome: Committed, task: { taskId: number; redundancy: number; policy: ConsensusPolicy }): ApiError | null {
  const agreed = outcome.agreement.agreedIds.length;
  const required = requiredAgreement(task.policy, task.redundancy);
  if (agreed >= required) return null;
  const minerOf = new Map(outcome.slots.map((s) => [s.slot, s.miner.id]));
  return new ApiError(
    502,
    "consensus_not_reached",
    `task ${task.taskId}: ${agreed} of ${task.redundancy} miners agreed; the session's consensus_policy "${task.policy}" needs ${required}`,
    {
      policy: task.policy,
      status: consensusStatus(agreed, answeredIn(outcome), task.redundancy),
      agreed,
      required,
      redundancy: task.redundancy,
      answer_hash: outcome.winner.hash,
      dissent: outcome.dissent.flatMap((d) => d.slots.map((slot) => ({ miner: minerOf.get(slot) ?? null, hash: d.hash, similarity: d.similarity }))),
      miners: outcome.slots.map((s) => ({
        miner: s.miner.id,
        status: slotStatus(s),
        agreed: s.state === "precommitted" ? (s.agreed ?? false) : null,
        precommit_hash: s.hash ?? null,
        fault: s.fault ?? null,
      })),
    },
  );
}

/** The error a client receives for a task that ended without a result. */
export function outcomeError(outcome: Unfinished, taskId: number, model: string): ApiError {
  if (outcome.status === "timed_out") return new ApiError(504, "timeout", `task ${taskId} got no miner result before its timeout`);
  if (outcome.reason === "no_miners") return new ApiError(503, "no_miners_available", `no healthy miner with spare capacity serves model ${model}`);
  // Answers from miners on probation alone decide nothing (domain/miners/probation.ts).
  const unvouched = outcome.slots.some((s) => s.state === "precommitted");
  const message = unvouched
    ? `every established miner assigned to task ${taskId} failed; the answers of miners on probation alone decide nothing`
    : `every miner assigned to task ${taskId} failed`;
  return new ApiError(502, "miners_failed", message, {
    miners: outcome.slots.map((s) => ({
      miner: s.miner.id,
      status: s.state,
      error: s.error ?? null,
      fault: s.fault ?? null,
      ...(s.miner.probation ? { probation: true } : {}),
    })),
  });
}
