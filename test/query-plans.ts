import { type Sql, sqlOf } from "../durable-objects/sqlite-object";

/** A Sql that runs every query as `EXPLAIN QUERY PLAN`, and keeps the plans' lines. */
export function explaining(storage: SqlStorage): { sql: Sql; plans: string[] } {
  const plans: string[] = [];
  const real = sqlOf(storage);
  const sql = ((strings: TemplateStringsArray, ...values: SqlStorageValue[]) => {
    const explained = Object.assign([`EXPLAIN QUERY PLAN ${strings[0]}`, ...strings.slice(1)], { raw: strings.raw });
    const rows = real<{ detail: string }>(explained as TemplateStringsArray, ...values);
    plans.push(rows.map((r) => r.detail).join(" | "));
    return [];
  }) as Sql;
  return { sql, plans };
}
