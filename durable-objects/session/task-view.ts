import type { PinNote } from "../../domain/miners/miner-pin";
import type { MinerRequest } from "../../domain/schemas/completion";
import { splitRequestId } from "../../domain/sessions/caller";
import { type AssignmentView, ReportedUsageSchema, type TaskSummaryView } from "../../domain/schemas/task";
import type { AssignmentRow, StoredError, TaskEventRow, TaskRow } from "./schema";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A task as `GET /api/v1/tasks/{session}` lists it: the client's own request id, and the (hashed) caller it belongs to. */
export function taskSummary(r: TaskRow, sessionId: number): TaskSummaryView {
  const { requestId, caller } = splitRequestId(r.request_id);
  return {
    task_id: r.task_id,
    session_id: sessionId,
    request_id: requestId,
    caller,
    status: r.status,
    kind: r.kind,
    redundancy: r.redundancy,
    created_at: new Date(r.created_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
    precommit_deadline_at: new Date(r.precommit_deadline_at).toISOString(),
    deadline_at: new Date(r.deadline_at).toISOString(),
  };
}
export type TaskSummary = TaskSummaryView;

export function assignmentView(a: AssignmentRow): AssignmentView {
  return {
    slot: a.slot,
    miner: a.miner_id,
    status: a.status,
    assigned_at: iso(a.assigned_at),
    acked_at: iso(a.acked_at),
    precommitted_at: iso(a.precommitted_at),
    ended_at: iso(a.ended_at),
    latency_ms: a.latency_ms,
    precommit_hash: a.precommit_hash,
    output: a.output,
    result_urn: a.result_urn,
    agreed: a.agreed === null ? null : a.agreed === 1,
    similarity: a.similarity,
    late: a.late === 1,
    error: a.error,
    reported_usage: reportedUsage(a.usage),
    usage_misreport: a.usage_misreport,
    probation: a.probation === 1,
  };
}

/** The miner's own figures as stored (`task-store.ts`, from a checked report); anything else reads as none. */
function reportedUsage(stored: string | null): AssignmentView["reported_usage"] {
  const parsed = stored === null ? null : ReportedUsageSchema.safeParse(JSON.parse(stored));
  return parsed?.success ? parsed.data : null;
}

/**
 * The task's minority answers, read from its assignments: every output that
 * did not agree with the answer, by precommit hash. Unlike the completion's
 * `consensus.dissent` (what was in at the decision), this includes results
 * that arrived after it (`late`).
 */
export function dissentOf(assignments: readonly AssignmentRow[]) {
  const groups = new Map<string, { hash: string; miners: string[]; similarity: number | null; late: boolean }>();
  for (const a of assignments) {
    if (a.agreed !== 0 || a.precommit_hash === null) continue;
    const group = groups.get(a.precommit_hash) ?? { hash: a.precommit_hash, miners: [], similarity: a.similarity, late: false };
    group.miners.push(a.miner_id);
    group.late ||= a.late === 1;
    groups.set(a.precommit_hash, group);
  }
  return [...groups.values()];
}

/** One task with its assignments and state history; `result` is the completion the client got, if any. */
export function taskDetail<R>(r: TaskRow, sessionId: number, parts: { result: R | null; assignments: AssignmentRow[]; events: TaskEventRow[] }) {
  const stored: StoredError | null = r.error ? JSON.parse(r.error) : null;
  const request: MinerRequest = JSON.parse(r.request);
  return {
    ...taskSummary(r, sessionId),
    request,
    payload_version: r.payload_version,
    prompt_urn: r.prompt_urn,
    result_urn: r.result_urn,
    result: parts.result,
    error: stored ? stored.body.error : null,
    // A chain task's named miners (domain/miners/miner-pin.ts): which the chain named, which the router could not reach.
    ...(r.miner_pin ? { chain_miners: JSON.parse(r.miner_pin) as PinNote } : {}),
    assignments: parts.assignments.map(assignmentView),
    dissent: dissentOf(parts.assignments),
    events: parts.events.map((e) => ({ slot: e.slot, state: e.state, at: iso(e.at) })),
  };
}

/**
 * The same for a private session: no result, no request text, no miner
 * output, whatever the records hold (a session made private later may still
 * hold plaintext from before). URNs and precommit hashes remain.
 */
export function privateTaskDetail(r: TaskRow, sessionId: number, parts: { assignments: AssignmentRow[]; events: TaskEventRow[] }) {
  const detail = taskDetail(r, sessionId, { result: null, ...parts });
  const { prompt: _p, messages: _m, ...request } = detail.request;
  return { ...detail, request, assignments: detail.assignments.map((a) => ({ ...a, output: null })) };
}
