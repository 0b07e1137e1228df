import type { Env } from "../env";
import { ledgerStub } from "../stubs";

/**
 * The Ledger's stake methods rewards call, as branch wt-wallet defines them
 * on the Ledger (durable-objects/ledger.ts): the multiplier of the account's
 * stake at a time (1 without stake), and a share of the stake taken once by
 * its key. Named here, narrowly, so the callers do not depend on the rest of
 * the wallet.
 */
export interface StakeLedger {
  stakeMultiplier(now: number): Promise<number>;
  slash(key: string, shareBps: number): Promise<unknown>;
}

// Until the Ledger's own type carries these methods (merge of wt-wallet), its stub is read through this interface.
export const stakeLedger = (env: Env, account: string): StakeLedger => ledgerStub(env, account) as unknown as StakeLedger;
