import { runInDurableObject } from "cloudflare:test";

/** One write statement an object ran: the storage turn it fell in, its SQL, the rows it wrote (indexes included). */
export type Write = { turn: number; sql: string; rows: number };
/** Any statement an object ran, a read (SELECT) or a write. */
export type Statement = { read: boolean; sql: string };

/**
 * Records every statement a Durable Object runs from now on that writes, and
 * the turn each falls in. Writes made without a wait on I/O between them share
 * one implicit transaction, committed when the turn ends; a turn ends when the
 * code run by one event and every microtask it queued are done. So a write
 * opens a turn and a long chain of microtasks closes it: the chain ends in the
 * same drain of the microtask queue, before any other event can run, and a
 * write still to come in that drain would need more than as many promise hops
 * after it. (A zero timer would not do: a Durable Object's RPC answer can
 * arrive before it fires.)
 */
const HOPS = 10_000;

export async function recordWrites(stub: DurableObjectStub, statements?: Statement[]): Promise<Write[]> {
  const writes: Write[] = [];
  await runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    const exec = sql.exec.bind(sql);
    let turn = 0;
    let open = false;
    sql.exec = ((query: string, ...values: SqlStorageValue[]) => {
      const cursor = exec(query, ...values);
      const read = /^\s*select/i.test(query);
      statements?.push({ read, sql: query.replace(/\s+/g, " ").trim() });
      if (!read) {
        if (!open) {
          turn++;
          open = true;
          let hops = 0;
          const hop = () => {
            if (++hops < HOPS) queueMicrotask(hop);
            else open = false;
          };
          queueMicrotask(hop);
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
