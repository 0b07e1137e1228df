import type { Sql } from "./sqlite-object";

/**
 * Settings an operator changed at run time (`PATCH /neuroshard/api/v1/config`),
 * as var names and string values over the deployment's own vars. Kept in the
 * registry, the deployment's one directory object; `version` grows with each
 * change, so an isolate knows whether its copy is current.
 */
export type RunTimeSettings = { version: number; vars: Record<string, string> };

export const RUN_TIME_SETTINGS_MIGRATION = `CREATE TABLE run_time_settings (
     name TEXT PRIMARY KEY,
     value TEXT NOT NULL,
     version INTEGER NOT NULL
   );`;

export function readRunTimeSettings(sql: Sql): RunTimeSettings {
  const rows = sql<{ name: string; value: string; version: number }>`SELECT name, value, version FROM run_time_settings`;
  return { version: Math.max(0, ...rows.map((r) => r.version)), vars: Object.fromEntries(rows.map((r) => [r.name, r.value])) };
}

/** Sets each var (one statement each, no await between them: one storage turn) under the next version. */
export function writeRunTimeSettings(sql: Sql, vars: Record<string, string>): RunTimeSettings {
  const version = readRunTimeSettings(sql).version + 1;
  for (const [name, value] of Object.entries(vars)) {
    sql`INSERT INTO run_time_settings (name, value, version) VALUES (${name}, ${value}, ${version})
        ON CONFLICT (name) DO UPDATE SET value = excluded.value, version = excluded.version`;
  }
  return readRunTimeSettings(sql);
}
