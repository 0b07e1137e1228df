import { useState } from "hono/jsx/dom";
import { api, query } from "../api";
import type { AdminBalance, Balance, CustomerCreateInput, CustomerEntry, IssuedKey, KeyPublic, UsageRecord } from "../types";
import { useAction, useApi } from "../use-api";
import { parseMicros } from "../../../domain/wallet/amounts";
import { money } from "../money";
import { Alert, Empty, Loading, when, TableHead } from "../ui";
import { Activity } from "./activity";

const customerPath = (id: string) => `/v1/admin/customers/${encodeURIComponent(id)}`;

/** A day's usage, summed from the customer's usage records (UTC days). */
type DayUsage = { day: string; requests: number; failed: number; tokens: number; cost: number };
function usageByDay(records: UsageRecord[]): DayUsage[] {
  const days = new Map<string, DayUsage>();
  for (const r of records) {
    const day = r.at.slice(0, 10);
    const d = days.get(day) ?? { day, requests: 0, failed: 0, tokens: 0, cost: 0 };
    d.requests += 1;
    d.failed += r.status === "failed" ? 1 : 0;
    d.tokens += r.prompt_tokens + r.completion_tokens;
    d.cost += r.cost_micros;
    days.set(day, d);
  }
  return [...days.values()];
}

/** A decimal typed in a form as the ledger's integer micros, read from its text (no floating point); empty is undefined; anything else throws, naming the field. */
function microsOf(entered: FormDataEntryValue | null, field: string): number | undefined {
  const text = String(entered ?? "").trim();
  if (text === "") return undefined;
  const parsed = parseMicros(text);
  if ("problem" in parsed) throw new Error(`${field} ${parsed.problem}`);
  return parsed.micros;
}

function OpenOrCreate() {
  const create = useAction();
  const open = (e: Event) => {
    e.preventDefault();
    const id = String(new FormData(e.target as HTMLFormElement).get("customer") ?? "").trim();
    if (id) location.hash = `#gateway/${encodeURIComponent(id)}`;
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const input = (): CustomerCreateInput => ({
      id: String(f.get("id") ?? "").trim(),
      name: String(f.get("name") ?? "").trim(),
      billing: f.get("billing") === "postpaid" ? "postpaid" : "prepaid",
      balance_micros: microsOf(f.get("balance"), "opening balance") ?? 0,
    });
    const made = await create.run(() => api<Balance>("POST", "/v1/admin/customers", input()));
    if (made) location.hash = `#gateway/${encodeURIComponent(made.customer_id)}`;
  };
  return (
    <>
      <section class="panel" aria-labelledby="open-title">
        <h3 id="open-title">Open a customer</h3>
        <form class="grid" onSubmit={open}>
          <label>
            Customer id
            <input name="customer" required pattern="[a-z0-9][a-z0-9\-]{0,39}" />
          </label>
          <button type="submit">Open</button>
        </form>
      </section>
      <section class="panel" aria-labelledby="create-title">
        <h3 id="create-title">Create a customer</h3>
        <form class="grid" onSubmit={submit}>
          <label>
            Id
            <input name="id" required />
          </label>
          <label>
            Name
            <input name="name" required />
          </label>
          <label>
            Billing
            <select name="billing">
              <option value="prepaid">prepaid</option>
              <option value="postpaid">postpaid</option>
            </select>
          </label>
          <label>
            Opening balance (USD)
            <input name="balance" type="number" min={0} step="0.000001" value="0" />
          </label>
          <button class="primary" type="submit" disabled={create.busy}>
            Create
          </button>
        </form>
        <Alert error={create.error} />
      </section>
    </>
  );
}

/** A key just issued or rotated: shown this once, the API keeps only its hash. */
function NewKey({ issued, onClose }: { issued: IssuedKey; onClose: () => void }) {
  return (
    <div class="secret" role="status" aria-live="assertive">
      <p>
        <strong>New key for {issued.name}</strong>: copy it now, it is not shown again.
      </p>
      <p>
        <code data-new-key>{issued.key}</code>
      </p>
      <button type="button" onClick={onClose}>
        I have copied it
      </button>
    </div>
  );
}

function Keys({ customerId, currency }: { customerId: string; currency: string }) {
  const keys = useApi(() => api<{ keys: KeyPublic[] }>("GET", `${customerPath(customerId)}/keys`), [customerId]);
  const action = useAction();
  const [issued, setIssued] = useState<IssuedKey | null>(null);
  const issue = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const name = String(f.get("name") ?? "").trim() || "default";
    // Unticked: the API's default scopes (completions and wallet reads), which move no money.
    const scopes: KeyPublic["scopes"] | undefined = f.get("move") ? ["completions", "wallet:read", "wallet:move"] : undefined;
    const made = await action.run(() => api<IssuedKey>("POST", `${customerPath(customerId)}/keys`, { name, ...(scopes ? { scopes } : {}) }));
    if (made) {
      setIssued(made);
      (e.target as HTMLFormElement).reset();
      keys.reload();
    }
  };
  const rotate = async (k: KeyPublic) => {
    const made = await action.run(() => api<IssuedKey>("POST", `${customerPath(customerId)}/keys/${k.id}/rotate`));
    if (made) {
      setIssued(made);
      keys.reload();
    }
  };
  const revoke = async (k: KeyPublic) => {
    if (!confirm(`Revoke key ${k.name} (${k.prefix}…)? The next request with it is refused.`)) return;
    if (await action.run(() => api("DELETE", `${customerPath(customerId)}/keys/${k.id}`))) keys.reload();
  };
  const list = keys.data?.keys ?? [];
  return (
    <section class="panel" aria-labelledby="keys-title">
      <h3 id="keys-title">Keys</h3>
      {issued ? <NewKey issued={issued} onClose={() => setIssued(null)} /> : null}
      <Alert error={action.error ?? keys.error} />
      {keys.data && list.length === 0 ? <Empty>No keys issued yet.</Empty> : null}
      {list.length > 0 ? (
        <div class="table-wrap">
          <table>
            <TableHead columns={["Name", "Prefix", "Models", "Scopes", { label: "Req/min", num: true }, { label: "Spent", num: true }, "Created", "State", "Actions"]} />
            <tbody>
              {list.map((k) => (
                <tr data-key={k.name}>
                  <th scope="row">{k.name}</th>
                  <td class="mono">{k.prefix}…</td>
                  <td>{k.allowed_models.join(", ")}</td>
                  <td>{k.scopes.join(", ")}</td>
                  <td class="num">{k.requests_per_minute}</td>
                  <td class="num">{money(k.spent_micros, currency)}</td>
                  <td>{when(k.created_at)}</td>
                  <td>{k.revoked_at ? <span class="bad">revoked {when(k.revoked_at)}</span> : <span class="ok">active</span>}</td>
                  <td>
                    {k.revoked_at ? null : (
                      <div class="actions">
                        <button type="button" onClick={() => rotate(k)} disabled={action.busy} aria-label={`Rotate key ${k.name}`}>
                          Rotate
                        </button>
                        <button type="button" class="danger" onClick={() => revoke(k)} disabled={action.busy} aria-label={`Revoke key ${k.name}`}>
                          Revoke
                        </button>
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <form class="grid" onSubmit={issue}>
        <label>
          New key's name
          <input name="name" placeholder="default" />
        </label>
        <label>
          <input type="checkbox" name="move" /> May move money (send, stake: wallet:move)
        </label>
        <button class="primary" type="submit" disabled={action.busy}>
          Issue a key
        </button>
      </form>
    </section>
  );
}

function Customer({ customerId }: { customerId: string }) {
  const balance = useApi(() => api<AdminBalance>("GET", `${customerPath(customerId)}/balance`), [customerId]);
  const usage = useApi(() => api<{ usage: UsageRecord[] }>("GET", `${customerPath(customerId)}/usage${query({ limit: 1000 })}`), [customerId]);
  const credit = useAction();
  const addCredit = async (e: Event) => {
    e.preventDefault();
    const entered = new FormData(e.target as HTMLFormElement).get("amount");
    const done = await credit.run(() => api("POST", `${customerPath(customerId)}/credit`, { amount_micros: microsOf(entered, "credit") ?? 0 }));
    if (done) balance.reload();
  };
  const b = balance.data;
  const days = usageByDay(usage.data?.usage ?? []);
  return (
    <>
      <p>
        <a href="#gateway">← Gateway</a>
      </p>
      <h2>Customer {customerId}</h2>
      <Alert error={balance.error} />
      {balance.loading && !b ? <Loading loading /> : null}
      {b ? (
        <>
          <dl class="cards">
            <div class="card">
              <dt class="label">billing</dt>
              <dd class="value">{b.billing}</dd>
            </div>
            <div class="card">
              <dt class="label">balance</dt>
              <dd class="value">{money(b.balance_micros, b.currency)}</dd>
            </div>
            <div class="card">
              <dt class="label">spent</dt>
              <dd class="value">{money(b.spent_micros, b.currency)}</dd>
            </div>
          </dl>
          <form class="grid" onSubmit={addCredit}>
            <label>
              Add credit ({b.currency})
              <input name="amount" type="number" min={0.000001} step="0.000001" required />
            </label>
            <button type="submit" disabled={credit.busy}>
              Credit
            </button>
          </form>
          <Alert error={credit.error} />
          <Keys customerId={customerId} currency={b.currency} />
          <section class="panel" aria-labelledby="usage-title">
            <h3 id="usage-title">Usage by day (UTC, the newest 1000 requests)</h3>
            <Alert error={usage.error} />
            {usage.data && days.length === 0 ? <Empty>No usage yet.</Empty> : null}
            {days.length > 0 ? (
              <div class="table-wrap">
                <table>
                  <TableHead columns={["Day", { label: "Requests", num: true }, { label: "Failed", num: true }, { label: "Tokens", num: true }, { label: "Cost", num: true }]} />
                  <tbody>
                    {days.map((d) => (
                      <tr>
                        <th scope="row">{d.day}</th>
                        <td class="num">{d.requests}</td>
                        <td class="num">{d.failed}</td>
                        <td class="num">{d.tokens}</td>
                        <td class="num">{money(d.cost, b.currency)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : null}
          </section>
        </>
      ) : null}
    </>
  );
}

function CustomerList() {
  const customers = useApi(() => api<{ customers: CustomerEntry[] }>("GET", "/v1/admin/customers"), []);
  const list = customers.data?.customers ?? [];
  return (
    <section class="panel" aria-labelledby="customers-title">
      <h3 id="customers-title">Customers</h3>
      <Alert error={customers.error} />
      {customers.data && list.length === 0 ? <Empty>No customers yet.</Empty> : null}
      {list.length > 0 ? (
        <div class="table-wrap">
          <table>
            <TableHead columns={["Customer", "Name", "Billing", "Created"]} />
            <tbody>
              {list.map((c) => (
                <tr data-customer={c.id}>
                  <th scope="row">
                    <a href={`#gateway/${encodeURIComponent(c.id)}`}>{c.id}</a>
                  </th>
                  <td>{c.name}</td>
                  <td>{c.billing}</td>
                  <td>{when(c.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

export function Gateway({ customerId }: { customerId: string | undefined }) {
  return customerId ? (
    <Customer customerId={customerId} />
  ) : (
    <>
      <h2>Gateway</h2>
      <CustomerList />
      <Activity />
      <OpenOrCreate />
    </>
  );
}
