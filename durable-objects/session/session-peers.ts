import type { Vars } from "../../domain/config/config";
import type { LedgerObject } from "../ledger";
import type { MinerRegistry } from "../miner-registry";
import type { ReceiptAnchorPort } from "../../domain/objects/ports";

/** The objects a session calls besides itself: the registry (candidates, reports, stakes), the ledgers it pays rewards into, and the anchor queue its receipts go to. */
export type SessionPeers = Vars & {
  MINERS: DurableObjectNamespace<MinerRegistry>;
  LEDGERS: DurableObjectNamespace<LedgerObject>;
  CHAIN_INDEX: DurableObjectNamespace<ReceiptAnchorPort>;
};
