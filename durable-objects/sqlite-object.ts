import { DurableObject } from "cloudflare:workers";
import type { Vars } from "../domain/config/config";

/** A query that SQLite refused, with the query text (never the bound values) in the message. */
export class SqlError extends Error {
  override readonly name = "SqlError";
  constructor(
    readonly query: string,
    cause: unknown,
  ) {
    super(`${cause instanceof Error ? cause.message : String(cause)} in: ${query.replace(/\s+/g, " ").trim()}`, { cause });
  }
}

/**
 * A tagged-template wrapper over the SQLite storage API: values become bound
 * parameters, never part of the query text.
 */
export function sqlOf(storage: SqlStorage) {
  return function sql<T extends Record<string, SqlStorageValue> = Record<string, SqlStorageValue>>(strings: TemplateStringsArray, ...values: SqlStorageValue[]): T[] {
    const query = queryOf(strings);
    try {
      return storage.exec<T>(query, ...values).toArray();
    } catch (err) {
      throw new SqlError(query, err);
    }
  };
}
export type Sql = ReturnType<typeof sqlOf>;

/** A template's query text, joined once: a call site's `strings` is the same frozen array every call. */
const queries = new WeakMap<TemplateStringsArray, string>();
function queryOf(strings: TemplateStringsArray): string {
  let query = queries.get(strings);
  if (query === undefined) {
    query = strings.reduce((text, part, i) => text + (i > 0 ? "?" : "") + part, "");
    queries.set(strings, query);
  }
  return query;
}

/**
 * Applies the migrations this object has not seen yet, in one transaction
 * each, and records the schema version. Safe to call on every wake.
 */
export function migrate(storage: DurableObjectStorage, migrations: readonly string[]): void {
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS _schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
  let version = sql.exec<{ version: number }>("SELECT version FROM _schema WHERE id = 1").toArray()[0]?.version ?? 0;
  for (const migration of migrations.slice(version)) {
    const next = version + 1;
    storage.transactionSync(() => {
      try {
        sql.exec(migration);
      } catch (err) {
        throw new SqlError(migration, err);
      }
      sql.exec("INSERT INTO _schema (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version", next);
    });
    version = next;
  }
}

/**
 * The base of every SQLite-backed object here: the `sql` template and the
 * schema, migrated on wake. A `lazy` object writes no schema until it is
 * first given state (`ensureSchema`), so that merely addressing an unknown
 * id never creates storage.
 */
export abstract class SqliteObject<E extends Vars = Vars> extends DurableObject<E> {
  protected readonly sql: Sql = sqlOf(this.ctx.storage.sql);
  #migrated = false;

  constructor(
    ctx: DurableObjectState,
    env: E,
    private readonly migrations: readonly string[],
    options: { lazy?: boolean } = {},
  ) {
    super(ctx, env);
    if (!options.lazy || this.hasSchema()) this.ensureSchema();
  }

  /** Whether this object has been given state before (its schema exists). */
  protected hasSchema(): boolean {
    return this.#migrated || this.ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_schema'").toArray().length > 0;
  }

  protected ensureSchema(): void {
    if (this.#migrated) return;
    migrate(this.ctx.storage, this.migrations);
    this.#migrated = true;
  }
}

/** The one row a query must return (a row just written, say); its absence is a bug, not a client error. */
export function onlyRow<T>(rows: readonly T[], what: string): T {
  const [row] = rows;
  if (row === undefined) throw new Error(`expected ${what}, found none`);
  return row;
}
