import { api, query } from "../api";
import type { Session, TaskSummary } from "../types";
import { useApi } from "../use-api";
import { Alert, Empty, FieldCards, Loading, TableHead, when } from "../ui";

type SessionListItem = { source: "edge"; id: number; name: string; model: string; redundancy: number; mode: string; active: boolean } | { source: "chain"; id: number };

/** How often a session's task list is read again: new tasks appear without a reload. */
const TASKS_POLL_MS = 2_000;

function SessionList() {
  const sessions = useApi(() => api<{ sessions: SessionListItem[] }>("GET", "/api/v1/sessions"), [], 15_000);
  const edge = (sessions.data?.sessions ?? []).filter((s): s is Extract<SessionListItem, { source: "edge" }> => s.source === "edge");
  return (
    <>
      <h2>Sessions</h2>
      <Alert error={sessions.error} />
      {sessions.loading && !sessions.data ? <Loading loading /> : null}
      {sessions.data && edge.length === 0 ? <Empty>No sessions yet.</Empty> : null}
      {edge.length > 0 ? (
        <div class="table-wrap">
          <table>
            <TableHead columns={["Session", "Name", "Model", { label: "Redundancy", num: true }, "Mode", "Active"]} />
            <tbody>
              {edge.map((s) => (
                <tr>
                  <th scope="row">
                    <a href={`#sessions/${s.id}`}>Session {s.id}</a>
                  </th>
                  <td>{s.name}</td>
                  <td>{s.model}</td>
                  <td class="num">{s.redundancy}</td>
                  <td>{s.mode}</td>
                  <td>{s.active ? "yes" : <span class="muted">no</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}

const SETTINGS: (keyof Session & string)[] = [
  "model",
  "redundancy",
  "min_nodes",
  "max_nodes",
  "mode",
  "commit_policy",
  "stream_policy",
  "consensus_policy",
  "private",
  "signatures",
  "shards",
  "owner",
  "task_count",
  "created_at",
  "updated_at",
];

const statusClass = (s: string) => (s === "ended" ? "ok" : s === "failed" || s === "timed_out" ? "bad" : "warn");

function SessionDetail({ sessionId }: { sessionId: number }) {
  const session = useApi(() => api<Session>("GET", `/api/v1/sessions/${sessionId}`), [sessionId]);
  const tasks = useApi(() => api<{ tasks: TaskSummary[] }>("GET", `/api/v1/tasks/${sessionId}${query({ limit: 50 })}`), [sessionId], TASKS_POLL_MS);
  const s = session.data;
  return (
    <>
      <p>
        <a href="#sessions">← All sessions</a>
      </p>
      <h2>
        Session {sessionId}
        {s ? `: ${s.name}` : ""}
      </h2>
      <Alert error={session.error} />
      {s ? (
        <section class="panel" aria-label="Settings">
          <h3>Settings</h3>
          <FieldCards of={s} fields={SETTINGS} />
        </section>
      ) : null}
      <section class="panel" aria-labelledby="tasks-title" aria-live="polite">
        <h3 id="tasks-title">Tasks (newest first, refreshed every {TASKS_POLL_MS / 1000} s)</h3>
        <Alert error={tasks.error} />
        {tasks.data && tasks.data.tasks.length === 0 ? <Empty>No tasks in this session yet.</Empty> : null}
        {tasks.data && tasks.data.tasks.length > 0 ? (
          <div class="table-wrap">
            <table>
              <TableHead columns={["Task", "Status", "Kind", { label: "Redundancy", num: true }, "Created", "Request id"]} />
              <tbody>
                {tasks.data.tasks.map((t) => (
                  <tr data-task={t.task_id}>
                    <th scope="row">
                      <a href={`#task/${sessionId}/${t.task_id}`}>Task {t.task_id}</a>
                    </th>
                    <td class={statusClass(t.status)}>{t.status}</td>
                    <td>{t.kind}</td>
                    <td class="num">{t.redundancy}</td>
                    <td>{when(t.created_at)}</td>
                    <td class="mono">{t.request_id ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
    </>
  );
}

export const Sessions = ({ sessionId }: { sessionId: number | undefined }) => (sessionId === undefined ? <SessionList /> : <SessionDetail sessionId={sessionId} />);
