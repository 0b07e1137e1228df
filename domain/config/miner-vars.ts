import { flag, type SectionContext, type VarsOf } from "./var-readers";

/**
 * The miner network: how the router reaches and treats its miners. New MINER_* vars about
 * reaching miners go here (rewards, slashing and stake weight are in economy-vars.ts,
 * MINER_CREDENTIAL_KEY in credentials.ts).
 */
export const minerVars = {
  ALLOW_PRIVATE_MINER_URLS: flag,
};

export function minerSection(e: VarsOf<typeof minerVars>, { production, problems }: SectionContext) {
  if (production && e.ALLOW_PRIVATE_MINER_URLS) problems.push("ALLOW_PRIVATE_MINER_URLS must not be set in production");
  return {
    // Dev miners listen on loopback; in production a miner URL must be public.
    allowPrivateMinerUrls: !production || e.ALLOW_PRIVATE_MINER_URLS,
  };
}
