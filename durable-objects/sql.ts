/**
 * A tagged-template wrapper over the SQLite storage API: values become bound
 * parameters, never part of the query text.
 */
export function sqlOf(storage: SqlStorage) {
  return function sql<T extends Record<string, SqlStorageValue> = Record<string, SqlStorageValue>>(
    strings: TemplateStringsArray,
    ...values: SqlStorageValue[]
  ): T[] {
    const query = strings.reduce((text, part, i) => text + (i > 0 ? "?" : "") + part, "");
    return storage.exec<T>(query, ...values).toArray();
  };
}
export type Sql = ReturnType<typeof sqlOf>;

/**
 * Applies the migrations this object has not seen yet, in one transaction
 * each, and records the schema version. Safe to call on every wake.
 */
export function migrate(storage: DurableObjectStorage, migrations: readonly string[]): void {
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS _schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
  const row = sql.exec<{ version: number }>("SELECT version FROM _schema WHERE id = 1").toArray()[0];
  let version = row?.version ?? 0;
  while (version < migrations.length) {
    const next = version + 1;
    storage.transactionSync(() => {
      sql.exec(migrations[next - 1]!);
      sql.exec("INSERT INTO _schema (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version", next);
    });
    version = next;
  }
}
