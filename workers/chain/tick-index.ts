import { loadConfig } from "../../domain/config/config";
import type { Env } from "../env";
import { chainIndexStub, rewardsStub } from "../../domain/objects/stubs";

/** The cron's part: one tick of the configured chain's index (the index goes on by alarm while behind). */
export async function tickChainIndex(env: Env) {
  const chain = loadConfig(env).chain;
  if (chain.state !== "configured") return { state: chain.state };
  try {
    return await chainIndexStub(env, chain.target).tick(chain.target);
  } catch (err) {
    return { state: "error", error: err instanceof Error ? err.message : String(err) };
  }
}

/** The cron's part for claimable rewards: the distributor's epoch store keeps its target and its alarm closes each epoch. */
export async function scheduleRewardEpochs(env: Env) {
  const chain = loadConfig(env).chain;
  if (chain.state !== "configured" || !chain.rewards) return { state: chain.state === "configured" ? "no distributor" : chain.state };
  try {
    return { state: "scheduled", due_at: await rewardsStub(env, chain.rewards).scheduleRewards(chain.rewards) };
  } catch (err) {
    return { state: "error", error: err instanceof Error ? err.message : String(err) };
  }
}
