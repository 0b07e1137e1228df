import { decodePaymentResponseHeader } from "@x402/core/http";

export type X402Outcome = { admitted: number; refused: number; settled: number };

/** Whether a PAYMENT-RESPONSE header reports a settlement on chain (a replay of a paid task reports success with no transaction). */
function settledOnChain(header: string | null): boolean {
  if (!header) return false;
  try {
    const settled = decodePaymentResponseHeader(header);
    return settled.success && settled.transaction !== "";
  } catch {
    return false;
  }
}

/**
 * What one paid route's request adds to the day's x402 activity, read from
 * what the payment middleware did: the work ran only for a verified and
 * claimed payment (admitted); a 402 to a request that carried a payment is a
 * payment refused (invalid, or an authorization already used); a 402 to one
 * that carried none only names the price, and counts nothing.
 */
export function x402Outcome(o: { carriedPayment: boolean; workRan: boolean; status: number; paymentResponse: string | null }): X402Outcome {
  return {
    admitted: o.workRan ? 1 : 0,
    refused: !o.workRan && o.carriedPayment && o.status === 402 ? 1 : 0,
    settled: settledOnChain(o.paymentResponse) ? 1 : 0,
  };
}
