import { z } from "@hono/zod-openapi";

const micros = z.number().int();

export const ConservationSchema = z
  .object({
    /** Every figure below adds up. */
    holds: z.boolean(),
    /** Accounts in the directory, each read. */
    accounts: z.number().int(),
    /** available + staked + pending + in_flight + fees + slashed, over all accounts. */
    held_micros: micros,
    /** credits + rewards − charges, over all accounts. */
    issued_micros: micros,
    /** Every delivered transfer was received: sent − in_flight = received. */
    transfers_match: z.boolean(),
    totals_micros: z.object({
      available: micros,
      staked: micros,
      pending: micros,
      credits: micros,
      rewards: micros,
      received: micros,
      charges: micros,
      sent: micros,
      fees: micros,
      slashed: micros,
      in_flight: micros,
    }),
    /** Accounts whose own holdings differ from their inflows less outflows. */
    unbalanced_accounts: z.array(z.string()),
    /** Listed accounts whose Ledger holds no customer (should never happen). */
    missing_accounts: z.array(z.string()),
  })
  .openapi("LedgerConservation");
export type Conservation = z.infer<typeof ConservationSchema>;
