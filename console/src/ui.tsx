import type { Child } from "hono/jsx/dom";

export const Alert = ({ error }: { error: string | null }) => (error ? <p role="alert">{error}</p> : null);

/** Said plainly when there is nothing to show yet. */
export const Empty = ({ children }: { children: Child }) => <p class="muted">{children}</p>;

export const Loading = ({ loading }: { loading: boolean }) => (loading ? <p role="status">Loading…</p> : null);

/** A miner's state: an operator's bench first (it holds whatever the probes say), then its last health probe. */
export const Health = ({ healthy, benched }: { healthy: boolean; benched: boolean }) =>
  benched ? <span class="badge warn">benched by an operator</span> : healthy ? <span class="badge ok">healthy</span> : <span class="badge bad">benched: probe failed</span>;

export const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "—");

/** A Cortensor address or hash, shortened for a table; the whole value in the title. */
export const Short = ({ value }: { value: string | null }) =>
  value ? <code title={value}>{value.length > 18 ? `${value.slice(0, 10)}…${value.slice(-6)}` : value}</code> : <span class="muted">—</span>;

/** A column of a table's head: its label, and whether it holds numbers (right-aligned). */
export type Column = string | { label: string; num: true };

/** A table's head row, every cell a column header (`scope="col"`) for screen readers. */
export const TableHead = ({ columns }: { columns: readonly Column[] }) => (
  <thead>
    <tr>
      {columns.map((c) =>
        typeof c === "string" ? (
          <th scope="col">{c}</th>
        ) : (
          <th scope="col" class="num">
            {c.label}
          </th>
        ),
      )}
    </tr>
  </thead>
);

/** Some fields of a record as cards, each labelled by its name (`safe_head` → "safe head"); a missing value reads "—". */
export function FieldCards<T extends object>({ of, fields }: { of: T; fields: readonly (keyof T & string)[] }) {
  return (
    <dl class="cards">
      {fields.map((k) => (
        <div class="card">
          <dt class="label">{k.replace(/_/g, " ")}</dt>
          <dd class="mono">{String(of[k] ?? "—")}</dd>
        </div>
      ))}
    </dl>
  );
}
