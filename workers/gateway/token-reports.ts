import { keyedBatches } from "./keyed-batches";

/**
 * How long the tokens a key's requests used wait in the isolate before they
 * are added to its token window (one Quota call per key and report, not one
 * a request). A token limit is per minute and checked when the isolate takes
 * a block of requests (rate-blocks.ts), so the window may lag by this much;
 * a report lost with its isolate undercounts that window and bills nothing
 * less (billing is the Ledger's, usage-batches.ts).
 */
export const TOKEN_REPORT_MS = 1_000;
const TOKEN_REPORT_MAX = 1_000;

const reports = keyedBatches<number, void>({ waitMs: TOKEN_REPORT_MS, max: TOKEN_REPORT_MAX });

/** Adds `tokens` to the key's next report; `charge` sends a report's sum. Failures are logged, never thrown. */
export function reportTokens(keyId: string, tokens: number, charge: (keyId: string, tokens: number) => Promise<void>): Promise<void> {
  return reports.add(keyId, tokens, async (all) => {
    const sum = all.reduce((a, b) => a + b, 0);
    await charge(keyId, sum).catch((err: unknown) => console.error("charging tokens to the rate window failed", keyId, err));
    return all.map(() => undefined);
  });
}
