import { useState } from "hono/jsx/dom";
import type { ActivityDay, ActivityResponse } from "../../../domain/schemas/activity";
import { api, query } from "../api";
import { Chart } from "../chart";
import { useApi } from "../use-api";
import { Alert, Empty, Loading, TableHead } from "../ui";

const SPANS = [7, 14, 30, 90] as const;
const DAY_MS = 86_400_000;

/** Every UTC day from `from` to `to` (YYYY-MM-DD), oldest first. */
function everyDay(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** A dollar amount as the API gives it (six decimals), without trailing zeros past the cents. */
const usd = (text: string) => `$${text.replace(/(\.\d\d\d*?)0+$/, "$1")}`;

/**
 * Trial and x402 activity by UTC day (GET /api/v1/admin/activity): requests
 * let in and refused, payments settled and what for, tokens. Only the days
 * with any activity come back; none says so.
 */
export function Activity() {
  const [days, setDays] = useState<number>(14);
  const activity = useApi(() => api<ActivityResponse>("GET", `/api/v1/admin/activity${query({ days })}`), [days], 15_000);
  const a = activity.data;
  // The chart's axis is every day asked for: a day with nothing recorded had no such request, and draws as 0.
  const span = a ? everyDay(a.from, a.to) : [];
  const byDay = new Map(a?.days.map((d) => [d.day, d]));
  const times = span.map((day) => Date.parse(`${day}T00:00:00Z`) / 1000);
  const figure = (f: (d: ActivityDay) => number) =>
    span.map((day) => {
      const d = byDay.get(day);
      return d ? f(d) : 0;
    });
  return (
    <section class="panel" aria-labelledby="activity-title" data-activity>
      <h3 id="activity-title">Trial and x402 activity by day (UTC)</h3>
      <div class="actions">
        <label>
          Days
          <select name="activity-days" value={String(days)} onChange={(e: Event) => setDays(Number((e.target as HTMLSelectElement).value))}>
            {SPANS.map((n) => (
              <option value={String(n)} selected={n === days}>
                last {n}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={activity.reload} disabled={activity.loading}>
          Refresh
        </button>
      </div>
      <Alert error={activity.error} />
      {activity.loading && !a ? <Loading loading /> : null}
      {a && a.days.length === 0 ? (
        <Empty>
          No activity yet: no trial or x402 request from {a.from} to {a.to}.
        </Empty>
      ) : null}
      {a && a.days.length > 0 ? (
        <>
          <div class="charts">
            <Chart
              title="Requests admitted per day"
              unit="requests"
              times={times}
              series={[
                { label: "trial", stroke: "#0b57d0", values: figure((d) => d.trial.admitted) },
                { label: "x402 paid", stroke: "#146c2e", values: figure((d) => d.x402.admitted) },
                { label: "refused (quota or payment)", stroke: "#b3261e", values: figure((d) => d.trial.refused + d.x402.refused) },
              ]}
            />
          </div>
          <div class="table-wrap">
            <table>
              <caption class="muted">Trial: admitted, refused by the quota, tokens. x402: payments admitted, refused (invalid or reused), settled, amount settled, tokens.</caption>
              <TableHead
                columns={[
                  "Day",
                  { label: "Trial admitted", num: true },
                  { label: "Trial refused", num: true },
                  { label: "Trial tokens", num: true },
                  { label: "x402 admitted", num: true },
                  { label: "x402 refused", num: true },
                  { label: "x402 settled", num: true },
                  { label: "x402 amount", num: true },
                  { label: "x402 tokens", num: true },
                ]}
              />
              <tbody>
                {a.days.map((d) => (
                  <tr data-day={d.day}>
                    <th scope="row">{d.day}</th>
                    <td class="num" data-field="trial-admitted">
                      {d.trial.admitted}
                    </td>
                    <td class="num" data-field="trial-refused">
                      {d.trial.refused}
                    </td>
                    <td class="num">{d.trial.tokens}</td>
                    <td class="num" data-field="x402-admitted">
                      {d.x402.admitted}
                    </td>
                    <td class="num">{d.x402.refused}</td>
                    <td class="num">{d.x402.settled}</td>
                    <td class="num">{usd(d.x402.settled_usd)}</td>
                    <td class="num">{d.x402.tokens}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  );
}
