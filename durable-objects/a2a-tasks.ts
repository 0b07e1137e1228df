import { z } from "zod";
import type { Vars } from "../domain/config/config";
import { SqliteObject } from "./sqlite-object";

/** The one field of a stored Task the store filters on. */
const TaskContext = z.object({ contextId: z.string().optional() });
/** The state of a stored Task (the protocol's JSON form: "TASK_STATE_…"). */
const TaskStateOf = z.object({ status: z.object({ state: z.string() }).optional() });
const FINAL_STATES = new Set(["TASK_STATE_COMPLETED", "TASK_STATE_FAILED", "TASK_STATE_CANCELED", "TASK_STATE_REJECTED"]);

const MIGRATIONS = [
  `CREATE TABLE tasks (
     id TEXT PRIMARY KEY,
     task TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   );`,
];

/**
 * A2A tasks of one caller (named by a hash of its key): the protocol's Task
 * objects as JSON, so that a task can be read or cancelled from any isolate.
 * A task that has ended is never changed again.
 */
export class A2ATaskStoreObject extends SqliteObject {
  constructor(ctx: DurableObjectState, env: Vars) {
    super(ctx, env, MIGRATIONS);
  }

  /**
   * Stores a task, unless the stored one has already ended (completed,
   * failed, cancelled, rejected): an ended task is final. Requests run
   * apart (one runs the task, another cancels it), and the check and the
   * write happen here in one step, so a result that arrives after a cancel
   * cannot be attached to the cancelled task. Whether it was stored.
   */
  save(id: string, task: string): boolean {
    const stored = this.load(id);
    if (stored !== null && FINAL_STATES.has(TaskStateOf.safeParse(JSON.parse(stored)).data?.status?.state ?? "")) return false;
    this.sql`INSERT INTO tasks (id, task, updated_at) VALUES (${id}, ${task}, ${Date.now()})
             ON CONFLICT (id) DO UPDATE SET task = excluded.task, updated_at = excluded.updated_at`;
    return true;
  }

  /** Newest first; `after` is the id the previous page ended with. */
  list(q: { pageSize: number; after?: string | undefined; contextId?: string | undefined }): { tasks: string[]; next: string | null; total: number } {
    const all = this.sql<{ id: string; task: string }>`SELECT id, task FROM tasks ORDER BY updated_at DESC, id`.filter(
      (r) => !q.contextId || TaskContext.safeParse(JSON.parse(r.task)).data?.contextId === q.contextId,
    );
    const start = q.after ? all.findIndex((r) => r.id === q.after) + 1 : 0;
    const page = all.slice(start, start + q.pageSize);
    return { tasks: page.map((r) => r.task), next: start + q.pageSize < all.length ? (page.at(-1)?.id ?? null) : null, total: all.length };
  }

  load(id: string): string | null {
    return this.sql<{ task: string }>`SELECT task FROM tasks WHERE id = ${id}`[0]?.task ?? null;
  }
}
