import { type Bill, type Settled, settleUsage, type UsageSinks } from "./billing";

/**
 * How long a usage record waits in the isolate for more of its customer's
 * before the batch goes to the Ledger, and the most one batch holds (a full
 * batch goes at once). Billing follows the answer by about this much; until
 * then the request's reservation keeps its worst case counted in admission.
 */
export const USAGE_BATCH_MS = 20;
export const USAGE_BATCH_MAX = 64;

type Batch = { bills: Bill[]; send: () => void; settled: Promise<Settled[]> };

/** Each customer's open batch (one Ledger per customer, so one call per batch). */
const open = new Map<string, Batch>();

/**
 * Bills a request after its answer, in its customer's batch: one Ledger call
 * and one token charge per key for every batch instead of two calls per
 * request. The promise settles when this record is recorded or parked; each
 * request hands it to `waitUntil`, so the isolate lives until its own record
 * is safe (however the request ended, the batch it joined is sent).
 * `sinks` is called once, when the batch is sent.
 */
export function billAfterResponse(customerId: string, sinks: () => UsageSinks, bill: Bill): Promise<Settled> {
  let batch = open.get(customerId);
  if (!batch) batch = openBatch(customerId, sinks);
  const index = batch.bills.push(bill) - 1;
  if (batch.bills.length >= USAGE_BATCH_MAX) batch.send();
  return batch.settled.then((settled) => settled[index] ?? "lost");
}

function openBatch(customerId: string, sinks: () => UsageSinks): Batch {
  let go: () => void = () => {};
  const due = new Promise<void>((resolve) => {
    go = resolve;
  });
  const bills: Bill[] = [];
  const batch: Batch = {
    bills,
    send: () => {
      clearTimeout(timer);
      // Closed as it is sent: a record arriving from now on opens the next batch.
      if (open.get(customerId) === batch) open.delete(customerId);
      go();
    },
    settled: due.then(() => settleUsage(sinks(), bills)),
  };
  const timer = setTimeout(() => batch.send(), USAGE_BATCH_MS);
  open.set(customerId, batch);
  return batch;
}
