import { loadConfig } from "../../domain/config/config";
import type { Env } from "../env";
import { chainIndexStub } from "../../domain/objects/stubs";

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
