import { runInDurableObject } from "cloudflare:test";

/** One write statement an object ran: the storage turn it fell in, its SQL, the rows it wrote (indexes included). */
export type Write = { turn: number; sql: string; rows: number };

/**
 * Records every statement a Durable Object runs from now on that writes.
 * Writes made without an intervening I/O wait share one implicit transaction,
 * committed at the end of the turn; a turn here is a run of writes with no
 * macrotask between them (a zero timer marks the end), which is how the
 * runtime groups them into commits.
 */
export async function recordWrites(stub: DurableObjectStub): Promise<Write[]> {
  const writes: Write[] = [];
  await runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    const exec = sql.exec.bind(sql);
    let turn = 0;
    let open = false;
    sql.exec = ((query: string, ...values: SqlStorageValue[]) => {
      const cursor = exec(query, ...values);
      if (!/^\s*select/i.test(query)) {
        if (!open) {
          turn++;
          open = true;
          setTimeout(() => {
            open = false;
          }, 0);
        }
        writes.push({ turn, sql: query.replace(/\s+/g, " ").trim(), rows: cursor.rowsWritten });
      }
      return cursor;
    }) as SqlStorage["exec"];
  });
  return writes;
}

/** Turns, statements and rows of a list of writes. */
export function tally(writes: readonly Write[]) {
  return { turns: new Set(writes.map((w) => w.turn)).size, statements: writes.length, rows: writes.reduce((n, w) => n + w.rows, 0) };
}
