import { useState } from "hono/jsx/dom";
import { api } from "../api";
import type { MinerPublic, MinerRegisterInput, MinerUpdate } from "../types";
import { useAction, useApi } from "../use-api";
import { Alert, Empty, Health, Loading, Short, when, TableHead } from "../ui";

const list = (s: FormDataEntryValue | null) =>
  String(s ?? "")
    .split(",")
    .map((m) => m.trim())
    .filter(Boolean);
const text = (s: FormDataEntryValue | null) => String(s ?? "").trim();

/** The address proof typed in (a challenge's nonce and the address's signature of its message); none when either is empty. */
function proofOf(form: FormData) {
  const nonce = text(form.get("proof_nonce"));
  const signature = text(form.get("proof_signature"));
  return nonce && signature ? { nonce, signature: signature as `0x${string}` } : undefined;
}

/** The proof's two fields: the challenge comes from `POST /api/v1/admin/miners/challenge` with the URL and address. */
const ProofFields = () => (
  <>
    <label>
      Address proof: challenge nonce
      <input name="proof_nonce" placeholder="from POST /api/v1/admin/miners/challenge" />
    </label>
    <label>
      Address proof: signature of its message
      <input name="proof_signature" placeholder="0x… (the address's EIP-191 signature)" />
    </label>
  </>
);

/** The register form's fields, as the API takes them; what is left empty is left out (the API's defaults apply). */
function registration(form: FormData): MinerRegisterInput {
  const input: MinerRegisterInput = { url: text(form.get("url")), credential: text(form.get("credential")) };
  if (text(form.get("id"))) input.id = text(form.get("id"));
  if (text(form.get("name"))) input.name = text(form.get("name"));
  if (text(form.get("evm_address"))) input.evm_address = text(form.get("evm_address"));
  if (list(form.get("models")).length) input.models = list(form.get("models"));
  if (text(form.get("max_concurrency"))) input.max_concurrency = Number(form.get("max_concurrency"));
  input.protocol = text(form.get("protocol")) === "neuroshard" ? "neuroshard" : "openai";
  input.offchain = form.get("offchain") === "on";
  if (text(form.get("payout_account"))) input.payout_account = text(form.get("payout_account"));
  const proof = proofOf(form);
  if (proof) input.address_proof = proof;
  return input;
}

/** The edit form's changes: only fields that differ from the miner as listed (the credential only when a new one is typed). */
function changes(form: FormData, m: MinerPublic): MinerUpdate {
  const patch: MinerUpdate = {};
  if (text(form.get("name")) && text(form.get("name")) !== m.name) patch.name = text(form.get("name"));
  if (text(form.get("url")) && text(form.get("url")) !== m.url) patch.url = text(form.get("url"));
  if (text(form.get("credential"))) patch.credential = text(form.get("credential"));
  const models = list(form.get("models"));
  if (models.length && models.join(",") !== m.models.join(",")) patch.models = models;
  const concurrency = Number(form.get("max_concurrency"));
  if (concurrency !== m.max_concurrency) patch.max_concurrency = concurrency;
  const address = text(form.get("evm_address")) || null;
  if (address !== m.evm_address) patch.evm_address = address;
  const payout = text(form.get("payout_account")) || null;
  if (payout !== m.payout_account) patch.payout_account = payout;
  const proof = proofOf(form);
  if (proof) patch.address_proof = proof;
  return patch;
}

function RegisterForm({ onDone }: { onDone: () => void }) {
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const ok = await action.run(() => api("POST", "/api/v1/admin/miners", registration(new FormData(form))));
    if (ok) {
      form.reset();
      onDone();
    }
  };
  return (
    <section class="panel" aria-labelledby="register-title">
      <h3 id="register-title">Register a miner</h3>
      <form class="grid" onSubmit={submit}>
        <label>
          Id (optional)
          <input name="id" />
        </label>
        <label>
          Name (optional)
          <input name="name" />
        </label>
        <label>
          URL
          <input name="url" type="url" required placeholder="https://miner.example:8000" />
        </label>
        <label>
          Credential (bearer token)
          <input name="credential" type="password" autocomplete="off" required />
        </label>
        <label>
          Models (comma-separated)
          <input name="models" placeholder="dev-model" />
        </label>
        <label>
          Max concurrency
          <input name="max_concurrency" type="number" min={1} max={1024} placeholder="4" />
        </label>
        <label>
          Protocol
          <select name="protocol">
            <option value="openai">OpenAI-compatible</option>
            <option value="neuroshard">NeuroShard node</option>
          </select>
        </label>
        <label>
          Signing address (optional)
          <input name="evm_address" placeholder="0x…" />
        </label>
        <ProofFields />
        <label>
          Payout account (optional)
          <input name="payout_account" />
        </label>
        <label class="check">
          <input name="offchain" type="checkbox" /> Off-chain payloads
        </label>
        <button class="primary" type="submit" disabled={action.busy}>
          Register
        </button>
      </form>
      <Alert error={action.error} />
    </section>
  );
}

function EditForm({ miner, onDone }: { miner: MinerPublic; onDone: () => void }) {
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const patch = changes(new FormData(e.target as HTMLFormElement), miner);
    if (Object.keys(patch).length === 0) return onDone();
    if (await action.run(() => api("PATCH", `/api/v1/admin/miners/${encodeURIComponent(miner.id)}`, patch))) onDone();
  };
  return (
    <form class="grid" onSubmit={submit} aria-label={`Edit miner ${miner.id}`}>
      <label>
        Name
        <input name="name" value={miner.name} />
      </label>
      <label>
        URL
        <input name="url" type="url" value={miner.url} />
      </label>
      <label>
        New credential (empty: keep)
        <input name="credential" type="password" autocomplete="off" />
      </label>
      <label>
        Models
        <input name="models" value={miner.models.join(", ")} />
      </label>
      <label>
        Max concurrency
        <input name="max_concurrency" type="number" min={1} max={1024} value={String(miner.max_concurrency)} />
      </label>
      <label>
        Signing address
        <input name="evm_address" value={miner.evm_address ?? ""} />
      </label>
      <ProofFields />
      <label>
        Payout account
        <input name="payout_account" value={miner.payout_account ?? ""} />
      </label>
      <div class="actions">
        <button class="primary" type="submit" disabled={action.busy}>
          Save
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
      <Alert error={action.error} />
    </form>
  );
}

function MinerRow({ miner, onChanged }: { miner: MinerPublic; onChanged: () => void }) {
  const [editing, setEditing] = useState(false);
  const action = useAction();
  const remove = async () => {
    if (!confirm(`Remove miner ${miner.id}? Its sessions stop using it at once.`)) return;
    if (await action.run(() => api("DELETE", `/api/v1/admin/miners/${encodeURIComponent(miner.id)}`))) onChanged();
  };
  const bench = async () => {
    if (await action.run(() => api("PATCH", `/api/v1/admin/miners/${encodeURIComponent(miner.id)}`, { benched: !miner.benched }))) onChanged();
  };
  const probation = async () => {
    const body = { probation: !miner.probation.on_probation };
    if (await action.run(() => api("PATCH", `/api/v1/admin/miners/${encodeURIComponent(miner.id)}`, body))) onChanged();
  };
  const s = miner.stats;
  return (
    <>
      <tr data-miner={miner.id}>
        <th scope="row">
          <span class="mono">{miner.id}</span>
          <div class="muted">{miner.name !== miner.id ? miner.name : ""}</div>
        </th>
        <td>
          <Health healthy={miner.healthy} benched={miner.benched} />
          {miner.last_error ? <div class="bad">{miner.last_error}</div> : null}
          <div class="muted">checked {when(miner.last_health_check_at)}</div>
        </td>
        <td class="num">{miner.latency_ms === null ? "—" : `${Math.round(miner.latency_ms)} ms`}</td>
        <td class="num">{miner.reputation.toFixed(2)}</td>
        <td class="num">
          {miner.in_flight} / {miner.max_concurrency}
        </td>
        <td class="num" title="agreed / disagreed / failed / timed out">
          {s.agreed} / {s.disagreed} / {s.failed} / {s.timed_out}
        </td>
        <td>
          {miner.protocol}
          {miner.offchain ? " · off-chain" : ""}
          <div class="muted" data-source={miner.source}>
            {miner.source === "joined" ? `joined · lease until ${when(miner.lease_expires_at)}` : "registered by an operator"}
          </div>
        </td>
        <td>
          <Short value={miner.evm_address} />
        </td>
        <td data-probation={miner.probation.on_probation ? "on" : "off"}>
          {miner.probation.on_probation ? (
            <span title="selected only beside established miners; its answer never decides a task">on probation · {miner.probation.agreeing_results_needed} agreeing to go</span>
          ) : (
            <span class="muted">established</span>
          )}
        </td>
        <td>
          <div class="actions">
            <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing}>
              Edit
            </button>
            <button type="button" onClick={bench} disabled={action.busy} aria-pressed={miner.benched}>
              {miner.benched ? "Unbench" : "Bench"}
            </button>
            <button type="button" onClick={probation} disabled={action.busy} aria-pressed={miner.probation.on_probation}>
              {miner.probation.on_probation ? "Establish" : "Put on probation"}
            </button>
            <button type="button" class="danger" onClick={remove} disabled={action.busy}>
              Remove
            </button>
          </div>
          <Alert error={action.error} />
        </td>
      </tr>
      {editing ? (
        <tr>
          <td colspan={10}>
            <EditForm
              miner={miner}
              onDone={() => {
                setEditing(false);
                onChanged();
              }}
            />
          </td>
        </tr>
      ) : null}
    </>
  );
}

export function Miners() {
  const miners = useApi(() => api<{ miners: MinerPublic[] }>("GET", "/api/v1/miners"), [], 10_000);
  const probe = useAction();
  const [probed, setProbed] = useState<string | null>(null);
  const probeNow = async () => {
    const r = await probe.run(() => api<{ results: { id: string; healthy: boolean }[] }>("POST", "/api/v1/admin/miners/health-check"));
    if (r) {
      setProbed(`Probed ${r.results.length} miners: ${r.results.filter((x) => x.healthy).length} healthy.`);
      miners.reload();
    }
  };
  const rows = miners.data?.miners ?? [];
  return (
    <>
      <h2>Miners</h2>
      <div class="actions">
        <button type="button" onClick={probeNow} disabled={probe.busy}>
          {probe.busy ? "Probing…" : "Probe now"}
        </button>
      </div>
      {probed ? <p role="status">{probed}</p> : null}
      <Alert error={probe.error ?? miners.error} />
      {miners.loading && !miners.data ? <Loading loading /> : null}
      {miners.data && rows.length === 0 ? <Empty>No miners registered yet.</Empty> : null}
      {rows.length > 0 ? (
        <div class="table-wrap">
          <table>
            <caption class="muted">
              {rows.filter((m) => m.healthy).length} healthy, {rows.filter((m) => !m.healthy).length} benched (a failed health probe benches a miner; the next good one brings it
              back)
            </caption>
            <TableHead
              columns={[
                "Miner",
                "Health",
                { label: "Latency", num: true },
                { label: "Reputation", num: true },
                { label: "Load", num: true },
                { label: "Agreed / disagreed / failed / timed out", num: true },
                "Protocol",
                "Signing address",
                "Probation",
                "Actions",
              ]}
            />
            <tbody>
              {rows.map((m) => (
                <MinerRow miner={m} onChanged={miners.reload} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <RegisterForm onDone={miners.reload} />
    </>
  );
}
