import { api, query } from "../api";
import type { ChainStatus, NeuroShardProofs } from "../types";
import { useApi } from "../use-api";
import { Alert, Empty, FieldCards, Short, TableHead, when } from "../ui";

const STATUS_FIELDS: (keyof ChainStatus & string)[] = [
  "state",
  "status",
  "chain_id",
  "cursor",
  "head",
  "safe_head",
  "lag",
  "events",
  "undecodable_logs",
  "reorg_count",
  "failures",
];

function ChainIndex() {
  const status = useApi(() => api<ChainStatus>("GET", "/api/v1/chain/status"), [], 10_000);
  const s = status.data;
  return (
    <section class="panel" aria-labelledby="chain-title">
      <h3 id="chain-title">Chain index</h3>
      <Alert error={status.error} />
      {s?.state === "unconfigured" ? <Empty>No chain index: CHAIN_RPC_URL is not set on this deployment.</Empty> : null}
      {s && s.state !== "unconfigured" ? (
        <>
          <FieldCards of={s} fields={STATUS_FIELDS} />
          {s.problems.length > 0 ? <p role="alert">{s.problems.join("; ")}</p> : null}
          {s.stop_reason ? <p role="alert">Stopped: {s.stop_reason}</p> : null}
          {s.last_error ? (
            <p class="bad">
              Last error ({when(s.last_error_at)}): {s.last_error}
            </p>
          ) : null}
          <p class="muted">
            Session contract <Short value={s.session_address} />, queue contract <Short value={s.queue_address} />; last tick {when(s.last_tick_at)}.
          </p>
        </>
      ) : null}
    </section>
  );
}

/** Each decided task's consensus record (the NeuroShard node API's proofs), with a link to its timeline; its signed receipt is at the task's /receipt route. */
function Proofs() {
  const proofs = useApi(() => api<NeuroShardProofs>("GET", `/neuroshard/api/v1/proofs${query({ limit: 25 })}`), [], 10_000);
  const p = proofs.data;
  return (
    <section class="panel" aria-labelledby="proofs-title">
      <h3 id="proofs-title">Decided tasks and their consensus records</h3>
      <Alert error={proofs.error} />
      {p ? (
        <p>
          {p.stats.total_submitted} decided, {p.stats.total_verified} with consensus reached.
        </p>
      ) : null}
      {p && p.proofs.length === 0 ? <Empty>No decided tasks yet.</Empty> : null}
      {p && p.proofs.length > 0 ? (
        <div class="table-wrap">
          <table>
            <TableHead columns={["Task", "Decided", "Status", "Consensus", { label: "Agreed", num: true }, "Answer hash"]} />
            <tbody>
              {p.proofs.map((r) => (
                <tr>
                  <th scope="row">
                    <a href={`#task/${r.session_id}/${r.task_id}`}>
                      {r.session_id}/{r.task_id}
                    </a>
                  </th>
                  <td>{when(r.timestamp)}</td>
                  <td>{r.status}</td>
                  <td class={r.verified ? "ok" : "bad"}>{r.consensus ?? "—"}</td>
                  <td class="num">
                    {r.agreed} / {r.redundancy}
                  </td>
                  <td>
                    <Short value={r.precommit_hash} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

export function Chain() {
  return (
    <>
      <h2>Chain and receipts</h2>
      <ChainIndex />
      <Proofs />
      <p class="muted">
        Each task's signed receipt is served at <code>/api/v1/tasks/&#123;session&#125;/&#123;task&#125;/receipt</code>; miner rewards are on the <a href="#rewards">Rewards</a>{" "}
        screen.
      </p>
    </>
  );
}
