import { api } from "../api";
import type { Assignment, TaskDetail } from "../types";
import { useApi } from "../use-api";
import { Alert, Empty, Loading, Short, when, TableHead } from "../ui";

type Consensus = { status?: string };

/** The marks on a miner's track, in the protocol's order. */
const MARKS = [
  { key: "assigned_at", label: "assigned", css: "assigned" },
  { key: "acked_at", label: "acked", css: "acked" },
  { key: "precommitted_at", label: "precommitted", css: "precommitted" },
  { key: "ended_at", label: "committed / ended", css: "committed" },
] as const;

const ms = (iso: string | null) => (iso ? Date.parse(iso) : null);

/** Where on the axis (percent) a time falls. */
function scale(times: (number | null)[]) {
  const known = times.filter((t): t is number => t !== null);
  const start = Math.min(...known);
  const span = Math.max(1, Math.max(...known) - start);
  return { start, span, at: (t: number) => ((t - start) / span) * 100 };
}

const agreement = (a: Assignment) =>
  a.agreed === true ? <span class="ok">agreed</span> : a.agreed === false ? <strong class="bad">disagreed</strong> : <span class="muted">—</span>;

function Timeline({ task }: { task: TaskDetail }) {
  const times = [ms(task.created_at), ...task.assignments.flatMap((a) => MARKS.map((m) => ms(a[m.key])))];
  const axis = scale(times);
  return (
    <section class="panel" aria-labelledby="timeline-title">
      <h3 id="timeline-title">Timeline ({axis.span} ms from the task's creation)</h3>
      <div class="legend" aria-hidden="true">
        {MARKS.map((m) => (
          <span>
            <i class={m.css} />
            {m.label}
          </span>
        ))}
      </div>
      <div class="timeline">
        {task.assignments.map((a) => {
          const first = ms(a.assigned_at);
          const last = ms(a.ended_at) ?? ms(a.precommitted_at) ?? ms(a.acked_at);
          const described = MARKS.map((m) => {
            const t = ms(a[m.key]);
            return t === null ? `${m.label}: —` : `${m.label}: +${t - axis.start} ms`;
          }).join(", ");
          return (
            <div class="row" data-timeline-miner={a.miner}>
              <div>
                <span class="mono">{a.miner}</span> {agreement(a)}
              </div>
              <div class="track" role="img" aria-label={`${a.miner}: ${described}`}>
                {first !== null && last !== null ? <span class="span" style={{ left: `${axis.at(first)}%`, width: `${axis.at(last) - axis.at(first)}%` }} /> : null}
                {MARKS.map((m) => {
                  const t = ms(a[m.key]);
                  return t === null ? null : <span class={`mark ${m.css}`} title={`${m.label} +${t - axis.start} ms`} style={{ left: `calc(${axis.at(t)}% - 2px)` }} />;
                })}
              </div>
            </div>
          );
        })}
        <div class="row" aria-hidden="true">
          <div class="muted">ms after creation</div>
          <div class="axis">
            {[0, 0.25, 0.5, 0.75, 1].map((f) => (
              <span style={{ left: `${f * 100}%` }}>{Math.round(f * axis.span)}</span>
            ))}
          </div>
        </div>
      </div>
    </section>
  );
}

function Assignments({ task }: { task: TaskDetail }) {
  const start = ms(task.created_at) ?? 0;
  const rel = (iso: string | null) => (iso ? `+${(ms(iso) ?? 0) - start} ms` : "—");
  return (
    <div class="table-wrap">
      <table>
        <TableHead columns={["Miner", "Status", "Assigned", "Acked", "Precommitted", "Committed", "Precommit hash", { label: "Similarity", num: true }, "Agreement"]} />
        <tbody>
          {task.assignments.map((a) => (
            <tr data-assignment={a.miner}>
              <th scope="row" class="mono">
                {a.miner}
              </th>
              <td>
                {a.status}
                {a.late ? " (late)" : ""}
                {a.error ? <div class="bad">{a.error}</div> : null}
              </td>
              <td>{rel(a.assigned_at)}</td>
              <td>{rel(a.acked_at)}</td>
              <td>{rel(a.precommitted_at)}</td>
              <td>{rel(a.ended_at)}</td>
              <td>
                <Short value={a.precommit_hash} />
              </td>
              <td class="num">{a.similarity === null ? "—" : a.similarity.toFixed(3)}</td>
              <td>{agreement(a)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function TaskTimeline({ sessionId, taskId }: { sessionId: number; taskId: number }) {
  const open = (s: string) => !["ended", "failed", "timed_out"].includes(s);
  const task = useApi(() => api<TaskDetail>("GET", `/api/v1/tasks/${sessionId}/${taskId}`), [sessionId, taskId], 2_000);
  const t = task.data;
  // The API leaves a private session's outputs out (null); nothing here reads the text any other way.
  const chosen = t?.assignments.find((a) => a.agreed === true && a.output !== null)?.output ?? null;
  const consensus = t?.result?.["consensus"] as Consensus | undefined;
  return (
    <>
      <p>
        <a href={`#sessions/${sessionId}`}>← Session {sessionId}</a>
      </p>
      <h2>
        Task {taskId} of session {sessionId}
      </h2>
      <Alert error={task.error} />
      {task.loading && !t ? <Loading loading /> : null}
      {t ? (
        <>
          <dl class="cards">
            <div class="card">
              <dt class="label">status</dt>
              <dd class="value">{t.status}</dd>
            </div>
            <div class="card">
              <dt class="label">consensus</dt>
              <dd class="value">{consensus?.status ?? "—"}</dd>
            </div>
            <div class="card">
              <dt class="label">agreed / redundancy</dt>
              <dd class="value">
                {t.assignments.filter((a) => a.agreed === true).length} / {t.redundancy}
              </dd>
            </div>
            <div class="card">
              <dt class="label">created</dt>
              <dd>{when(t.created_at)}</dd>
            </div>
          </dl>
          {open(t.status) ? <p role="status">Still running: refreshed every 2 s.</p> : null}
          {t.error ? (
            <p role="alert">
              {t.error.code}: {t.error.message}
            </p>
          ) : null}
          {t.assignments.length === 0 ? <Empty>No miner assigned yet.</Empty> : <Timeline task={t} />}
          {t.dissent.length > 0 ? (
            <section class="panel" aria-labelledby="dissent-title">
              <h3 id="dissent-title">Who disagreed</h3>
              <ul>
                {t.dissent.map((d) => (
                  <li data-dissent={d.miners.join(",")}>
                    <strong class="bad">{d.miners.join(", ")}</strong> answered <Short value={d.hash} />
                    {d.similarity === null ? "" : `, similarity ${d.similarity.toFixed(3)} to the answer`}
                    {d.late ? " (after the decision)" : ""}
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
          <h3>Miners</h3>
          <Assignments task={t} />
          <h3>Chosen output</h3>
          {chosen !== null ? <pre class="output">{chosen}</pre> : <Empty>No output to show (none agreed yet, or the session is private: its text is never shown).</Empty>}
        </>
      ) : null}
    </>
  );
}
