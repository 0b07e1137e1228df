import type { AnchorTarget } from "../config/config.ts";
import type { CustomerEntry } from "../gateway/schemas.ts";
import type { AccountStake } from "../wallet/stake-weight.ts";

/**
 * Where two Durable Objects call each other, one of them reaches the other
 * through a port: the few methods it calls, named here, which the callee's
 * class implements (so the compiler keeps the two in step). Everywhere else
 * an object types a peer with the peer's class, the peer being below it.
 *
 * The ledger and the registry are such a pair: the registry reads a
 * customer's locked stake from its ledger (a class it imports), and the
 * ledger pushes its stake and its directory entry to the registry (through
 * this port), so neither module imports the other both ways.
 */
export interface RegistryPort extends Rpc.DurableObjectBranded {
  /** The ledger's locked stake changed: the registry re-weighs that account's miners. */
  setAccountStake(account: string, stake: AccountStake): void;
  /** A gateway customer's account lists itself in the directory. */
  listAccount(entry: CustomerEntry): void;
}

/**
 * The session and the chain index are another: the index runs hybrid tasks
 * on sessions, and a session queues its receipts' leaves for anchoring on
 * the index's anchor instance (`anchorStub`).
 */
export interface ReceiptAnchorPort extends Rpc.DurableObjectBranded {
  /** Queues a receipt's leaf (domain/receipts/anchor.ts) for the next batch anchored at `target`. */
  queueReceipt(target: AnchorTarget, sessionId: number, taskId: number, leaf: string): Promise<void>;
}
