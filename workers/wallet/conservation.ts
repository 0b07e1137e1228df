import type { AccountFigures } from "../../durable-objects/wallet/figures";
import { accountBalances } from "../../durable-objects/wallet/figures";
import type { SourceFigures } from "../../durable-objects/wallet/sources";
import { loadConfig } from "../../domain/config/config";
import type { Env } from "../env";
import { ADMIN_SOURCE, CHARGES_SOURCE, LEGACY_SOURCE, sourceAccount, X402_SOURCE } from "../../domain/rewards/reward-sources";
import type { Conservation, SourceTotals, Unbacked } from "../../domain/schemas/conservation";
import { sixAtATime } from "../../domain/net/six-at-a-time";
import { ledgerStub, registryStub } from "../../domain/objects/stubs";
import { claimsConservation, settledKey } from "./claims-conservation";

type Totals = AccountFigures;
const ZERO: Totals = { available: 0, staked: 0, pending: 0, credits: 0, rewards: 0, received: 0, charges: 0, sent: 0, fees: 0, slashed: 0, settled: 0, in_flight: 0 };
type Account = AccountFigures & { customer_id: string; by_source: Record<string, number>; settlements: { distributor: string; address: string; micros: number }[] };

/** A sum as a JSON number: exact up to 2^53 − 1 (`figures_exact` says whether every one is); every comparison is made on the BigInt. */
const shown = (n: bigint) => Number(n);
const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The ledger's conservation check over every account the registry's
 * directory lists, by source.
 *
 * Within the accounts: what all of them hold, plus transfers in flight,
 * fees and slashes, equals every credit and reward less every charge; every
 * delivered transfer was received; each account balances on its own.
 *
 * Against the sources (domain/rewards/reward-sources.ts): every credit and
 * reward an account holds names the source that issued it, and no account
 * holds more from a source than that source recorded issuing to it (else it
 * is named in `unbacked_accounts`); no source issued more than backs it
 * (`overdrawn_sources`). What the sources issued but the accounts do not
 * show yet is in flight (held rewards, a credit whose answer was lost). So
 * `issued = paid in + emitted`: customers' payments, the shares of x402
 * payments and of customers' charges, and the emission pool's rewards.
 *
 * Earnings settled on chain left their account (`settled`, a destination
 * like fees and slashes); against the chain (`claims`, where a
 * RewardDistributor is configured), each address's posted amount is what
 * the accounts settled for it, and claimed ≤ posted (workers/wallet/claims-conservation.ts).
 *
 * Every figure is an integer of micros, summed in BigInt, so equality is exact.
 */
export async function conservation(env: Env): Promise<Conservation> {
  const config = loadConfig(env);
  const ids = await registryStub(env).accountIds();
  const totals: Record<keyof Totals, bigint> = Object.fromEntries(Object.keys(ZERO).map((k) => [k, 0n])) as Record<keyof Totals, bigint>;
  const unbalanced: string[] = [];
  const missing: string[] = [];
  const accounts: Account[] = [];
  // An account whose figures cannot be read exactly (a sum past 2^53 − 1) does not balance: named, never rounded.
  const figures = await sixAtATime(ids, (id) =>
    ledgerStub(env, id)
      .figures()
      .catch((err: unknown) => ({ unreadable: String(err) })),
  );
  figures.forEach((f, j) => {
    if (f && "unreadable" in f) {
      console.error(JSON.stringify({ event: "conservation_unreadable_account", account: ids[j], error: f.unreadable }));
      unbalanced.push(ids[j] ?? "");
      return;
    }
    if (!f) {
      missing.push(ids[j] ?? "");
      return;
    }
    accounts.push(f);
    if (!accountBalances(f)) unbalanced.push(f.customer_id);
    for (const k of Object.keys(ZERO) as (keyof Totals)[]) totals[k] += BigInt(f[k]);
  });

  // Every source an account names, and the declared ones even if none does yet.
  const named = new Set([ADMIN_SOURCE, X402_SOURCE, CHARGES_SOURCE, config.rewards.emission.pool, ...accounts.flatMap((a) => Object.keys(a.by_source))]);
  named.delete(LEGACY_SOURCE);
  const sourceNames = [...named].sort();
  const read = await sixAtATime(sourceNames, (name) =>
    ledgerStub(env, sourceAccount(name))
      .sourceFigures()
      .catch((err: unknown) => ({ unreadable: String(err) })),
  );
  const sources = new Map<string, SourceFigures>();
  const unreadableSources: string[] = [];
  read.forEach((s, j) => {
    if (s && "unreadable" in s) {
      console.error(JSON.stringify({ event: "conservation_unreadable_source", source: sourceNames[j], error: s.unreadable }));
      unreadableSources.push(sourceNames[j] ?? "");
    } else if (s) sources.set(sourceNames[j] ?? "", s);
  });

  const unbacked: Unbacked[] = [];
  const creditedFrom = new Map<string, bigint>();
  for (const a of accounts) {
    for (const [source, micros] of Object.entries(a.by_source)) {
      creditedFrom.set(source, (creditedFrom.get(source) ?? 0n) + BigInt(micros));
      if (source === LEGACY_SOURCE) continue;
      const issued = sources.get(source)?.by_account[a.customer_id] ?? 0n;
      if (BigInt(micros) > issued) unbacked.push({ account: a.customer_id, source, credited_micros: micros, issued_micros: shown(issued) });
    }
  }
  const bySource = [...sources.values()].map((s) => {
    const credited = creditedFrom.get(s.source) ?? 0n;
    return {
      source: s.source,
      kind: s.kind,
      funded: s.funded_micros,
      issued: s.issued_micros,
      credited,
      inFlight: s.issued_micros - credited,
      overdrawn: s.overdrawn,
    };
  });
  const sum = (keep: (s: { kind: SourceTotals["kind"] }) => boolean) => bySource.filter(keep).reduce((t, s) => t + s.issued, 0n);
  const payments = sum((s) => s.kind === "payment");
  const x402 = sum((s) => s.kind === "x402");
  const charges = sum((s) => s.kind === "charges");
  const emitted = sum((s) => s.kind === "emission");
  const paidIn = payments + x402 + charges;
  const sourcesInFlight = bySource.reduce((t, s) => t + s.inFlight, 0n);
  const legacy = creditedFrom.get(LEGACY_SOURCE) ?? 0n;
  // What the accounts took in from outside them (credits and rewards) is what the sources issued, less what is still on its way, plus entries from before sources.
  const inflows = totals.credits + totals.rewards;
  const sourcesMatch = inflows === paidIn + emitted - sourcesInFlight + legacy && unbacked.length === 0;
  const overdrawn = [...bySource.filter((s) => s.overdrawn.length > 0).map((s) => s.source), ...unreadableSources];

  const held = totals.available + totals.staked + totals.pending + totals.in_flight + totals.fees + totals.slashed + totals.settled;
  const issued = totals.credits + totals.rewards - totals.charges;
  const transfersMatch = totals.sent - totals.in_flight === totals.received;
  const shownSources: SourceTotals[] = bySource.map((s) => ({
    source: s.source,
    kind: s.kind,
    funded_micros: shown(s.funded),
    issued_micros: shown(s.issued),
    credited_micros: shown(s.credited),
    in_flight_micros: shown(s.inFlight),
    overdrawn: s.overdrawn,
  }));
  const settled = new Map<string, bigint>();
  for (const a of accounts) {
    for (const t of a.settlements) settled.set(settledKey(t.distributor, t.address), (settled.get(settledKey(t.distributor, t.address)) ?? 0n) + BigInt(t.micros));
  }
  const claims = await claimsConservation(env, settled);
  const every = [held, issued, paidIn, emitted, sourcesInFlight, ...Object.values(totals), ...bySource.flatMap((s) => [s.funded, s.issued, s.credited, s.inFlight])];
  return {
    holds: held === issued && transfersMatch && sourcesMatch && overdrawn.length === 0 && unbalanced.length === 0 && missing.length === 0 && (claims === null || claims.holds),
    accounts: ids.length,
    held_micros: shown(held),
    issued_micros: shown(issued),
    transfers_match: transfersMatch,
    totals_micros: Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, shown(v)])) as Totals,
    unbalanced_accounts: unbalanced,
    missing_accounts: missing,
    sources_match: sourcesMatch,
    paid_in_micros: shown(paidIn),
    emitted_micros: shown(emitted),
    issued_by_sources_micros: shown(paidIn + emitted),
    by_source_micros: { payments: shown(payments), x402: shown(x402), charges: shown(charges), emitted: shown(emitted), legacy: shown(legacy) },
    sources_in_flight_micros: shown(sourcesInFlight),
    charges_kept_micros: shown(totals.charges - charges),
    sources: shownSources,
    figures_exact: every.every((n) => n <= MAX && n >= -MAX),
    unbacked_accounts: unbacked,
    overdrawn_sources: overdrawn,
    claims,
  };
}
