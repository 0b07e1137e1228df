import type { Context } from "hono";
import { loadConfig } from "../../domain/config/config";
import { constantTimeEqual } from "../../domain/crypto/constant-time";
import type { AppEnv } from "../http/app-env";
import type { TaskDetailView, TaskSummaryView } from "../../domain/schemas/task";
import { namespace } from "../../domain/sessions/caller";
import { callerOf } from "../http/caller-of";

/**
 * Who reads a task view. The admin key reads every task whole; a router key
 * reads whole only the tasks it submitted itself (their stored namespace is
 * its own). Of anyone else's task (a gateway customer's, an x402 payer's, a
 * trial client's, another router key's, a chain's, or one stored before
 * tasks were namespaced) it sees that the task exists, its status, timing,
 * miners, hashes, URNs and error, but not its request id, its prompt, the
 * answer or the miners' outputs.
 */
export type TaskViewer = { all: true } | { all: false; namespace: string };

export async function taskViewerOf(c: Context<AppEnv>): Promise<TaskViewer> {
  const caller = callerOf(c);
  if (caller.kind === "key" && (await constantTimeEqual(caller.id, loadConfig(c.env).adminKey))) return { all: true };
  return { all: false, namespace: await namespace(caller) };
}

/** Whether the viewer reads the task whole (and its receipt, which carries the miners' outputs). */
export const ownsTask = (viewer: TaskViewer, task: { caller: string | null }) => viewer.all || task.caller === viewer.namespace;

export function summaryFor<T extends TaskSummaryView>(viewer: TaskViewer, task: T): T {
  return ownsTask(viewer, task) ? task : { ...task, request_id: null };
}

export function detailFor(viewer: TaskViewer, task: TaskDetailView): TaskDetailView {
  if (ownsTask(viewer, task)) return task;
  // The client's own text (prompt, messages, stop sequences) stays with its caller; the parameters do not identify it.
  const { prompt: _p, messages: _m, stop: _s, ...request } = task.request;
  return { ...task, request_id: null, request, result: null, assignments: task.assignments.map((a) => ({ ...a, output: null })) };
}
