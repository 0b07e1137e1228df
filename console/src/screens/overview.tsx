import { useState } from "hono/jsx/dom";
import { api, query } from "../api";
import { Chart } from "../chart";
import type { DeploymentMetrics, MetricsWindow } from "../types";
import { useApi } from "../use-api";
import { Alert, Empty, Loading, TableHead } from "../ui";

/** The most frequent codes get a line each; the table below lists them all. */
const ERROR_COLOURS = ["#b3261e", "#7a5a00", "#6750a4", "#006a6a"];

const pct = (part: number, whole: number) => (whole === 0 ? null : (part / whole) * 100);
const show = (v: number | null, unit: string) => (v === null ? "—" : `${Math.round(v * 10) / 10}${unit}`);

function Card({ label, value }: { label: string; value: string | number }) {
  return (
    <div class="card">
      <dt class="label">{label}</dt>
      <dd class="value">{value}</dd>
    </div>
  );
}

export function Overview() {
  const [window, setWindow] = useState<MetricsWindow>("hour");
  const metrics = useApi(() => api<DeploymentMetrics>("GET", `/api/v1/admin/metrics${query({ window })}`), [window], 15_000);
  const m = metrics.data;
  const times = m ? m.buckets.map((b) => Date.parse(b.start) / 1000) : [];
  const perMinute = m ? m.bucket_s / 60 : 1;
  return (
    <>
      <h2>Overview</h2>
      <fieldset class="actions">
        <legend class="muted">Window</legend>
        {(["hour", "day"] as const).map((w) => (
          <label class="check">
            <input type="radio" name="window" value={w} checked={window === w} onChange={() => setWindow(w)} /> last {w}
          </label>
        ))}
      </fieldset>
      <Alert error={metrics.error} />
      {metrics.loading && !m ? <Loading loading /> : null}
      {m ? (
        <>
          <dl class="cards">
            <Card label="miners serving" value={m.miners.serving} />
            <Card label="miners benched" value={m.miners.benched} />
            <Card label="sessions active" value={`${m.sessions.active} / ${m.sessions.total}`} />
            <Card label={`tasks, last ${window}`} value={m.totals.tasks} />
            <Card label="p50 latency" value={show(m.totals.p50_ms, " ms")} />
            <Card label="p99 latency" value={show(m.totals.p99_ms, " ms")} />
            <Card label="results agreeing" value={show(pct(m.totals.results_agreed, m.totals.results_agreed + m.totals.results_disagreed), " %")} />
            <Card label="tasks failed" value={m.totals.failed} />
          </dl>
          {m.totals.tasks === 0 ? (
            <Empty>No data yet: no task was created in the last {window}.</Empty>
          ) : (
            <div class="charts">
              <Chart
                title="Tasks per minute"
                unit="/min"
                times={times}
                series={[
                  { label: "created", stroke: "#0b57d0", values: m.buckets.map((b) => b.tasks / perMinute) },
                  { label: "failed", stroke: "#b3261e", values: m.buckets.map((b) => b.failed / perMinute) },
                ]}
              />
              <Chart
                title="Latency"
                unit="ms"
                times={times}
                series={[
                  { label: "p50", stroke: "#146c2e", values: m.buckets.map((b) => b.p50_ms) },
                  { label: "p99", stroke: "#7a5a00", values: m.buckets.map((b) => b.p99_ms) },
                ]}
              />
              <Chart
                title="Agreement"
                unit="%"
                times={times}
                series={[
                  { label: "results agreeing", stroke: "#146c2e", values: m.buckets.map((b) => pct(b.results_agreed, b.results_agreed + b.results_disagreed)) },
                  { label: "tasks reaching consensus", stroke: "#0b57d0", values: m.buckets.map((b) => pct(b.reached, b.ended)) },
                ]}
              />
            </div>
          )}
          <h3>Errors by code, last {window}</h3>
          {m.errors.length === 0 ? (
            <Empty>No failed tasks in the last {window}.</Empty>
          ) : (
            <div class="charts">
              <Chart
                title="Failed tasks per minute, by error code"
                unit="/min"
                times={times}
                series={m.errors.slice(0, ERROR_COLOURS.length).map((e, i) => ({
                  label: e.code,
                  stroke: ERROR_COLOURS[i] ?? "#b3261e",
                  values: m.buckets.map((b) => (b.errors[e.code] ?? 0) / perMinute),
                }))}
              />
            </div>
          )}
          {m.errors.length === 0 ? null : (
            <div class="table-wrap">
              <table>
                <TableHead columns={["Code", { label: "Tasks", num: true }]} />
                <tbody>
                  {m.errors.map((e) => (
                    <tr>
                      <th scope="row" class="mono">
                        {e.code}
                      </th>
                      <td class="num">{e.count}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <p class="muted">
            Latency percentiles are read from a histogram whose bins are {Math.round((m.latency_bin_ratio - 1) * 100)} % wide: each is the upper edge of the bin holding it.
          </p>
        </>
      ) : null}
    </>
  );
}
