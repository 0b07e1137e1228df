import type { ChainIndexObject } from "../../durable-objects/chain-index/chain-index-object";
import { loadConfig, type ChainTarget } from "../../domain/config/config";
import type { Env } from "../env";
import { ApiError } from "../../domain/errors";
import type { ChainStatus } from "../../domain/schemas/chain";
import { chainIndexStub } from "../../domain/objects/stubs";

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);

/**
 * The chain index's status with the configuration it runs under: an
 * unconfigured or misconfigured chain is a status, never an error, so the
 * rest of the router is unaffected by it.
 */
export async function chainStatus(env: Env): Promise<ChainStatus> {
  const chain = loadConfig(env).chain;
  const target = chain.state === "configured" ? chain.target : null;
  const state = target ? await chainIndexStub(env, target).state() : null;
  return {
    state: chain.state,
    problems: chain.state === "misconfigured" ? chain.problems : [],
    chain_id: target?.chainId ?? null,
    session_address: target?.sessionAddress ?? null,
    queue_address: target?.queueAddress ?? null,
    start_block: target?.startBlock ?? null,
    confirmations: target?.confirmations ?? null,
    status: state?.status ?? "not_started",
    stop_reason: state?.stop_reason ?? null,
    cursor: state?.cursor ?? null,
    head: state?.head ?? null,
    safe_head: state?.safe_head ?? null,
    lag: state && state.safe_head !== null ? Math.max(0, state.safe_head - state.cursor) : null,
    reorg_count: state?.reorg_count ?? 0,
    range_size: state?.range_size ?? null,
    failures: state?.failures ?? 0,
    last_error: state?.last_error ?? null,
    last_error_at: iso(state?.last_error_at),
    last_tick_at: iso(state?.last_tick_at),
    last_success_at: iso(state?.last_success_at),
    events: state?.events ?? 0,
    undecodable_logs: state?.undecodable_logs ?? 0,
  };
}

/** The configured chain's index, or 503 saying why there is none. */
export function configuredChainIndex(env: Env): { target: ChainTarget; index: DurableObjectStub<ChainIndexObject> } {
  const chain = loadConfig(env).chain;
  if (chain.state !== "configured") {
    throw new ApiError(503, "chain_not_configured", chain.state === "unconfigured" ? "no chain is configured (CHAIN_RPC_URL is not set)" : "the chain configuration is invalid", {
      problems: chain.state === "misconfigured" ? chain.problems : [],
    });
  }
  return { target: chain.target, index: chainIndexStub(env, chain.target) };
}

/** The configured chain's sessions for the sessions listing, or none when there is no chain or it cannot be read. */
export async function chainSessionsForListing(env: Env, limit: number) {
  const chain = loadConfig(env).chain;
  if (chain.state !== "configured") return [];
  try {
    return await chainIndexStub(env, chain.target).sessions({ limit });
  } catch (err) {
    console.error(JSON.stringify({ event: "chain_sessions_unreadable", error: err instanceof Error ? err.message : String(err) }));
    return [];
  }
}
