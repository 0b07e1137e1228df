import { useState } from "hono/jsx/dom";
import { api } from "../api";
import type { Conservation, MinerRewards, RewardsReport } from "../types";
import { useAction, useApi } from "../use-api";
import { decimalText } from "../money";
import { Alert, Empty, Loading, TableHead } from "../ui";

/** An amount of the ledger's integer micros as a decimal of its currency, exactly: 1234500 → "1.2345 USD". */
export const amount = (m: number, currency: string): string => `${decimalText(m)} ${currency}`;

const percent = (bps: number) => `${bps / 100} %`;

function Settings({ report }: { report: RewardsReport }) {
  const s = report.settings;
  const items: [string, string][] = [
    ["share of a billed task", percent(s.reward_share_bps)],
    ["reward per completion token (unbilled tasks)", amount(s.reward_micros_per_token, report.currency)],
    ["slash of an outvoted miner's stake", s.slash_share_bps > 0 ? percent(s.slash_share_bps) : "off"],
    ["majority that makes an outvote", percent(s.slash_majority_bps)],
  ];
  return (
    <section class="panel" aria-labelledby="reward-settings-title">
      <h3 id="reward-settings-title">Settings in force</h3>
      <dl class="cards">
        {items.map(([label, value]) => (
          <div class="card">
            <dt class="label">{label}</dt>
            <dd class="value">{value}</dd>
          </div>
        ))}
      </dl>
      <p class="muted">
        The agreeing miners of a committed task share its pool; a miner without a payout account forfeits its part. A miner's payout account is set when it is edited on the{" "}
        <a href="#miners">Miners</a> screen.
      </p>
    </section>
  );
}

function Earned({ m, currency }: { m: MinerRewards; currency: string }) {
  if (m.rewards.count === 0 && m.held.count === 0) return <span class="muted">no rewards yet</span>;
  return (
    <>
      {m.rewards.count > 0 ? (
        <span>
          {m.rewards.count} for {amount(m.rewards.amount_micros, currency)}
        </span>
      ) : null}
      {m.held.count > 0 ? (
        <span class="warn">
          {m.rewards.count > 0 ? "; " : ""}
          {m.held.count} held for {amount(m.held.amount_micros, currency)} (no customer yet)
        </span>
      ) : null}
    </>
  );
}

function MinersRewards({ report }: { report: RewardsReport }) {
  const { miners, totals, currency } = report;
  return (
    <section class="panel" aria-labelledby="miner-rewards-title">
      <h3 id="miner-rewards-title">Miners</h3>
      {miners.length === 0 ? <Empty>No miners registered.</Empty> : null}
      {miners.length > 0 && totals.rewards.count === 0 && totals.held.count === 0 ? <Empty>No rewards yet.</Empty> : null}
      {totals.rewards.count > 0 ? (
        <p data-rewards-total>
          {totals.rewards.count} rewards credited, {amount(totals.rewards.amount_micros, currency)} in all
          {totals.held.count > 0 ? `; ${totals.held.count} held (${amount(totals.held.amount_micros, currency)})` : ""}
          {totals.slashes.count > 0 ? `; ${totals.slashes.count} slashes (${amount(totals.slashes.amount_micros, currency)})` : ""}.
        </p>
      ) : null}
      {miners.length > 0 ? (
        <div class="table-wrap">
          <table>
            <caption class="muted">Figures of each miner's current payout account.</caption>
            <TableHead columns={["Miner", "Payout account", { label: "Stake multiplier", num: true }, "Rewards", "Slashes"]} />
            <tbody>
              {miners.map((m) => (
                <tr data-reward-miner={m.miner_id}>
                  <th scope="row">
                    {m.name}
                    {m.name !== m.miner_id ? <div class="muted mono">{m.miner_id}</div> : null}
                  </th>
                  <td>
                    {m.payout_account ? (
                      <>
                        <a href={`#gateway/${encodeURIComponent(m.payout_account)}`}>{m.payout_account}</a>
                        {m.account_exists === false ? <div class="warn">no such customer yet</div> : null}
                      </>
                    ) : (
                      <span class="muted">none: earns nothing</span>
                    )}
                  </td>
                  <td class="num">×{m.stake_multiplier}</td>
                  <td>
                    <Earned m={m} currency={currency} />
                  </td>
                  <td>
                    {m.slashes.count > 0 ? (
                      <span class="bad">
                        {m.slashes.count} for {amount(m.slashes.amount_micros, currency)}
                      </span>
                    ) : (
                      <span class="muted">none</span>
                    )}
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

const TOTALS: (keyof Conservation["totals_micros"])[] = [
  "available",
  "staked",
  "pending",
  "in_flight",
  "fees",
  "slashed",
  "settled",
  "credits",
  "rewards",
  "charges",
  "sent",
  "received",
];

/** The ledger's conservation check, run when asked: it reads every account's Ledger. */
function ConservationCheck({ currency }: { currency: string }) {
  const check = useAction();
  const [result, setResult] = useState<{ at: Date; c: Conservation } | null>(null);
  const run = async () => {
    const c = await check.run(() => api<Conservation>("GET", "/api/v1/admin/ledger/conservation"));
    if (c) setResult({ at: new Date(), c });
  };
  const c = result?.c;
  return (
    <section class="panel" aria-labelledby="conservation-title">
      <h3 id="conservation-title">Ledger conservation</h3>
      <p class="muted">
        Whether every account's holdings, transfers in flight, fees, slashes and earnings settled on chain equal every credit and reward less every charge, overall and account by
        account; and whether every credit and reward was issued by its source (payments, x402, charges, the emission pool).
      </p>
      <button type="button" class="primary" onClick={run} disabled={check.busy}>
        Run the conservation check
      </button>
      <Loading loading={check.busy} />
      <Alert error={check.error} />
      <div aria-live="polite">
        {c && result ? (
          <div data-conservation={c.holds ? "holds" : "broken"}>
            <p>
              {c.holds ? <span class="badge ok">holds</span> : <span class="badge bad">does not hold</span>} over {c.accounts} {c.accounts === 1 ? "account" : "accounts"}, run{" "}
              {result.at.toLocaleTimeString()}: held {amount(c.held_micros, currency)}, issued {amount(c.issued_micros, currency)}; transfers{" "}
              {c.transfers_match ? "all received" : "not all received"}.
            </p>
            {c.unbalanced_accounts.length > 0 ? (
              <p role="alert">
                Accounts that do not balance:{" "}
                {c.unbalanced_accounts.map((a, i) => (
                  <>
                    {i > 0 ? ", " : ""}
                    <a href={`#gateway/${encodeURIComponent(a)}`}>{a}</a>
                  </>
                ))}
              </p>
            ) : null}
            {c.missing_accounts.length > 0 ? <p role="alert">Listed accounts with no customer: {c.missing_accounts.join(", ")}</p> : null}
            <p data-sources={c.sources_match ? "match" : "broken"}>
              By source: paid in {amount(c.paid_in_micros, currency)} (payments {amount(c.by_source_micros.payments, currency)}, x402 {amount(c.by_source_micros.x402, currency)},
              charges {amount(c.by_source_micros.charges, currency)}), emitted {amount(c.emitted_micros, currency)}; in flight from sources{" "}
              {amount(c.sources_in_flight_micros, currency)}.
            </p>
            {c.unbacked_accounts.length > 0 ? (
              <p role="alert">
                Accounts holding more than their sources issued:{" "}
                {c.unbacked_accounts.map((u) => `${u.account} (${u.source}: ${amount(u.credited_micros, currency)} held, ${amount(u.issued_micros, currency)} issued)`).join("; ")}
              </p>
            ) : null}
            {c.overdrawn_sources.length > 0 ? <p role="alert">Sources that issued more than funded them: {c.overdrawn_sources.join(", ")}</p> : null}
            <dl class="cards">
              {TOTALS.map((k) => (
                <div class="card">
                  <dt class="label">{k.replace(/_/g, " ")}</dt>
                  <dd class="mono">{amount(c.totals_micros[k], currency)}</dd>
                </div>
              ))}
            </dl>
          </div>
        ) : null}
      </div>
    </section>
  );
}

export function Rewards() {
  const report = useApi(() => api<RewardsReport>("GET", "/api/v1/admin/rewards"), [], 15_000);
  const r = report.data;
  return (
    <>
      <h2>Miner rewards, stakes and slashing</h2>
      <Alert error={report.error} />
      {!r ? <Loading loading={report.loading} /> : null}
      {r ? (
        <>
          <MinersRewards report={r} />
          <ConservationCheck currency={r.currency} />
          <Settings report={r} />
        </>
      ) : null}
    </>
  );
}
