import type { Vars } from "../../domain/config/config";
import type { LedgerObject } from "../ledger";
import type { MinerRegistry } from "../miner-registry";

/** The objects a session calls besides itself: the registry (candidates, reports, stakes) and the ledgers it pays rewards into. */
export type SessionPeers = Vars & { MINERS: DurableObjectNamespace<MinerRegistry>; LEDGERS: DurableObjectNamespace<LedgerObject> };
