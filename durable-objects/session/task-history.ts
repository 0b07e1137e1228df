import type { TaskEventRow } from "./schema";

/**
 * A task's history as its row keeps it (`tasks.history`): a compact JSON array
 * of its lines, `[slot, state, at]` each (slot null: the task's own line), in
 * the order they happened, e.g. `[[null,"queued",1767268800000],[0,"assigned",1767268800001]]`.
 *
 * Lines are appended by the statement that already writes the task's row in
 * that write (its insert, its status update), in SQL, without reading the
 * column first (so an object woken after a restart appends as well):
 *
 *     history = COALESCE(substr(history, 1, length(history) - 1) || ',', '[') || substr(?, 2)
 *
 * with `historyJson(lines)` bound: a NULL history becomes the lines, a written
 * one loses its closing `]` and takes the lines' elements. (Written out in
 * each statement: the `sql` tag binds what it is given, so a fragment cannot
 * be spliced into one.)
 */
export function historyJson(lines: readonly TaskEventRow[]): string {
  let json = "";
  for (const { slot, state, at } of lines) json += `,[${slot === null ? "null" : slot},${JSON.stringify(state)},${at}]`;
  return `[${json.slice(1)}]`;
}

/** The lines a row's `history` holds (none for NULL). */
export function historyLines(history: string | null | undefined): TaskEventRow[] {
  if (!history) return [];
  return (JSON.parse(history) as [number | null, string, number][]).map(([slot, state, at]) => ({ slot, state, at }));
}

/**
 * The `assigned` lines of an open task that a restart lost. An assignment's
 * lines are held with the task's next write when that write has no statement
 * of the row to carry them (a warm task's first turn: the row was inserted
 * `assigned`, its assignments are one insert each), so they are not durable
 * until then; the assignments' rows are, and say when each was made. So the
 * history reads (and the orphan's timeout writes) as it always was: per
 * assignment without a line, its `assigned` line, in slot order, the task's
 * own after the first, all after every line written (any write of the task
 * writes what was held before it).
 */
export function lostAssignedLines(lines: readonly TaskEventRow[], assignments: readonly { slot: number; assigned_at: number }[]): TaskEventRow[] {
  const listed = new Set<number | null>();
  for (const l of lines) if (l.state === "assigned") listed.add(l.slot);
  const lost: TaskEventRow[] = [];
  for (const a of assignments) {
    if (listed.has(a.slot)) continue;
    lost.push({ slot: a.slot, state: "assigned", at: a.assigned_at });
    if (!listed.has(null)) {
      lost.push({ slot: null, state: "assigned", at: a.assigned_at });
      listed.add(null);
    }
  }
  return lost;
}
