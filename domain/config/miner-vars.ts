import { z } from "zod";
import { flag, parsed, positiveInt, type SectionContext, type VarsOf } from "./var-readers.ts";

/**
 * The miner network: how the router reaches and treats its miners. New MINER_* vars about
 * reaching miners go here (rewards, slashing and stake weight are in economy-vars.ts,
 * MINER_CREDENTIAL_KEY in credentials.ts).
 */
export const minerVars = {
  ALLOW_PRIVATE_MINER_URLS: flag,
  /**
   * Miners joining by themselves (POST /api/v1/miners/join): a join is admitted for MINER_LEASE_SECONDS and
   * renewed by joining again; its signed issued_at must be within MINER_JOIN_MAX_SKEW_SECONDS of the router's
   * clock; its address's payout account must have MINER_JOIN_MIN_STAKE micros locked (0 outside production
   * when unset; in production unset closes joins: an operator declares it, "0" included). Joins are counted
   * per client IP and per address in fixed one-minute windows; a node renews 2 times a minute at the default
   * lease, so the IP default lets 60 nodes share one address (a NAT), and a flood from one IP is cut at 120.
   */
  MINER_LEASE_SECONDS: parsed(z.coerce.number<string>().int().min(1).max(86_400).default(90)),
  MINER_JOIN_MAX_SKEW_SECONDS: parsed(z.coerce.number<string>().int().min(1).max(3600).default(120)),
  MINER_JOIN_MIN_STAKE: parsed(z.coerce.number<string>().int().min(0).max(Number.MAX_SAFE_INTEGER).optional()),
  MINER_JOINS_PER_IP_PER_MINUTE: positiveInt(120),
  MINER_JOINS_PER_ADDRESS_PER_MINUTE: positiveInt(10),
  /**
   * Agreeing results a miner on probation (a joined miner, or one an operator put there: PATCH
   * `probation: true`) still needs before it is established (domain/miners/probation.ts). Until then it is
   * selected only beside established miners, never as a majority of one task, and its answer never decides one.
   */
  MINER_PROBATION_RESULTS: parsed(z.coerce.number<string>().int().min(1).max(100_000).default(5)),
};

export function minerSection(e: VarsOf<typeof minerVars>, { production, problems }: SectionContext) {
  if (production && e.ALLOW_PRIVATE_MINER_URLS) problems.push("ALLOW_PRIVATE_MINER_URLS must not be set in production");
  return {
    // Dev miners listen on loopback; in production a miner URL must be public.
    allowPrivateMinerUrls: !production || e.ALLOW_PRIVATE_MINER_URLS,
    /** Miners joining by themselves (workers/router/miner-join-routes.ts); `minStakeMicros` null: joins closed (production, undeclared). */
    minerJoin: {
      leaseSeconds: e.MINER_LEASE_SECONDS,
      maxSkewSeconds: e.MINER_JOIN_MAX_SKEW_SECONDS,
      minStakeMicros: e.MINER_JOIN_MIN_STAKE ?? (production ? null : 0),
      perIpPerMinute: e.MINER_JOINS_PER_IP_PER_MINUTE,
      perAddressPerMinute: e.MINER_JOINS_PER_ADDRESS_PER_MINUTE,
    },
    /** Agreeing results a miner on probation needs before it is established (domain/miners/probation.ts). */
    probationResults: e.MINER_PROBATION_RESULTS,
  };
}
