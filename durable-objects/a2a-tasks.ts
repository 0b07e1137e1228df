import { z } from "zod";
import type { Env } from "../workers/env";
import { SqliteObject } from "./sqlite-object";

/** The one field of a stored Task the store filters on. */
const TaskContext = z.object({ contextId: z.string().optional() });

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
 */
export class A2ATaskStoreObject extends SqliteObject {

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, MIGRATIONS);
  }

  save(id: string, task: string): void {
    this.sql`INSERT INTO tasks (id, task, updated_at) VALUES (${id}, ${task}, ${Date.now()})
             ON CONFLICT (id) DO UPDATE SET task = excluded.task, updated_at = excluded.updated_at`;
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
