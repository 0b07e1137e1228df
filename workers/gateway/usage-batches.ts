import { type Bill, type Settled, settleUsage, type UsageSinks } from "./billing";
import { keyedBatches } from "./keyed-batches";

/**
 * How long a usage record waits in the isolate for more of its customer's
 * before the batch goes to the Ledger, and the most one batch holds (a full
 * batch goes at once). Billing follows the answer by about this much; until
 * then the request's reservation keeps its worst case counted in admission.
 */
export const USAGE_BATCH_MS = 50;
export const USAGE_BATCH_MAX = 64;

/** One customer's records, one Ledger (one call per batch). */
const batches = keyedBatches<Bill, Settled>({ waitMs: USAGE_BATCH_MS, max: USAGE_BATCH_MAX });

/**
 * Bills a request after its answer, in its customer's batch: one Ledger call
 * for every batch instead of one a request. The promise settles when this
 * record is recorded or parked (settleUsage); each request hands it to
 * `waitUntil`. `sinks` is called once, when the batch is sent.
 */
export function billAfterResponse(customerId: string, sinks: () => UsageSinks, bill: Bill): Promise<Settled> {
  return batches.add(customerId, bill, (bills) => settleUsage(sinks(), bills));
}
