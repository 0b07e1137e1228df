/** How a call is retried: attempts in all, and the wait before the second (doubling after). */
export type RetryPolicy = { attempts: number; firstDelayMs: number };

/** After-response billing: three tries over about a third of a second, well inside waitUntil's time. */
export const BILLING_RETRY: RetryPolicy = { attempts: 3, firstDelayMs: 100 };

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `call` until it resolves or `attempts` have failed, waiting
 * `firstDelayMs`, then twice that, and so on, between tries; the last error
 * is thrown. Only for calls that are safe to repeat (the Ledger's
 * `recordUsage` is idempotent per request id).
 */
export async function retrying<T>(call: () => Promise<T>, policy: RetryPolicy, sleep: (ms: number) => Promise<void> = wait): Promise<T> {
  let delay = policy.firstDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= policy.attempts) throw err;
      await sleep(delay);
      delay *= 2;
    }
  }
}
