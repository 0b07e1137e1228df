import type { AccountFigures } from "../../durable-objects/wallet/figures";
import { accountBalances } from "../../durable-objects/wallet/figures";
import type { Env } from "../env";
import type { Conservation } from "../schemas/conservation";
import { sixAtATime } from "../net/six-at-a-time";
import { ledgerStub, registryStub } from "../stubs";

type Totals = AccountFigures;
const ZERO: Totals = { available: 0, staked: 0, pending: 0, credits: 0, rewards: 0, received: 0, charges: 0, sent: 0, fees: 0, slashed: 0, in_flight: 0 };

/**
 * The ledger's conservation check over every account the registry's
 * directory lists: what all accounts hold, plus transfers in flight, fees
 * and slashes, must equal every credit and reward less every charge; and
 * every delivered transfer must have been received. Each account is also
 * checked on its own (its holdings against its inflows and outflows).
 * Figures are integer micros, so equality is exact.
 */
export async function conservation(env: Env): Promise<Conservation> {
  const ids = await registryStub(env).accountIds();
  const totals = { ...ZERO };
  const unbalanced: string[] = [];
  const missing: string[] = [];
  const figures = await sixAtATime(ids, (id) => ledgerStub(env, id).figures());
  figures.forEach((f, j) => {
    if (!f) {
      missing.push(ids[j] ?? "");
      return;
    }
    if (!accountBalances(f)) unbalanced.push(f.customer_id);
    for (const k of Object.keys(ZERO) as (keyof Totals)[]) totals[k] += f[k];
  });
  const held = totals.available + totals.staked + totals.pending + totals.in_flight + totals.fees + totals.slashed;
  const issued = totals.credits + totals.rewards - totals.charges;
  const transfersMatch = totals.sent - totals.in_flight === totals.received;
  return {
    holds: held === issued && transfersMatch && unbalanced.length === 0 && missing.length === 0,
    accounts: ids.length,
    held_micros: held,
    issued_micros: issued,
    transfers_match: transfersMatch,
    totals_micros: totals,
    unbalanced_accounts: unbalanced,
    missing_accounts: missing,
  };
}
