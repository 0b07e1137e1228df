import { z } from "@hono/zod-openapi";

import { EvmAddressSchema } from "./common.ts";

const evmAddress = EvmAddressSchema;

export const WalletClaimsQuerySchema = z.object({
  /** Only this miner address's claim. */
  address: evmAddress.optional(),
});
export type WalletClaimsQuery = z.infer<typeof WalletClaimsQuerySchema>;

/** One miner address's earnings as the ledger, the last posted epoch and the distributor see them; integer micros (one token unit each). */
export const WalletClaimSchema = z
  .object({
    miner_id: z.string(),
    address: z.string(),
    /** Credited to this account under the miner, per the ledger, now. */
    earned_micros: z.number().int(),
    /** What of it left the account's ledger balance for the distributor (settled on chain, claimable as tokens, no longer spendable in the ledger). */
    settled_micros: z.number().int(),
    /** The miner's cumulative amount in the last posted epoch (0: not in one yet): what it settled, once the epoch is posted. */
    posted_micros: z.number().int(),
    /** What the address claimed from the distributor in all (read on chain; null: the chain did not answer). */
    claimed_micros: z.number().int().nullable(),
    /** posted − claimed: what a claim pays now (null with claimed). */
    unclaimed_micros: z.number().int().nullable(),
    /** earned − settled: still in the ledger (or spent from it before it settled); what is left of it settles with the next epoch. */
    unposted_micros: z.number().int(),
    /** What `claim(epoch, cumulative, proof)` takes; null until the address is in a posted epoch. */
    claim: z
      .object({
        epoch: z.number().int(),
        root: z.string(),
        cumulative_micros: z.number().int(),
        proof: z.array(z.string()),
        transaction: z.string().openapi({ description: "The transaction that posted the epoch's root" }),
      })
      .nullable(),
  })
  .openapi("WalletClaim");

export const WalletClaimsSchema = z
  .object({
    chain_id: z.number().int(),
    distributor: z.string(),
    /** The token claims are paid in (6 decimals: one unit is one micro); null: the chain did not answer. */
    token: z.string().nullable(),
    /** Why on-chain figures are missing, if they are. */
    chain_error: z.string().nullable(),
    /** The account's miners with a registered address; a miner without one earns into the ledger only. */
    claims: z.array(WalletClaimSchema),
  })
  .openapi("WalletClaims");
export type WalletClaims = z.infer<typeof WalletClaimsSchema>;
