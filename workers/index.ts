import { createApp } from "./app";
import type { Env } from "./env";
import { registryStub } from "../domain/objects/stubs";
import { scheduleRewardEpochs, tickChainIndex } from "./chain/tick-index";
import { markIsolateEvent } from "../domain/isolate-clock";

export { SessionObject } from "../durable-objects/session/session-object";
export { MinerRegistry } from "../durable-objects/miner-registry";
export { LedgerObject } from "../durable-objects/ledger";
export { QuotaObject } from "../durable-objects/quota";
export { A2ATaskStoreObject } from "../durable-objects/a2a-tasks";
export { ChainIndexObject } from "../durable-objects/chain-index/chain-index-object";
export { ChainAccountObject } from "../durable-objects/chain-account/chain-account-object";

const app = createApp();

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    markIsolateEvent();
    return app.fetch(request, env, ctx);
  },
  async scheduled(_controller, env, ctx) {
    markIsolateEvent();
    ctx.waitUntil(
      registryStub(env)
        .checkHealth()
        .then((results) => console.log(JSON.stringify({ event: "miner_health", results }))),
    );
    // Stake multipliers, read again from the payout accounts' Ledgers (a stake past its unlock date, a push that was lost).
    ctx.waitUntil(
      registryStub(env)
        .refreshStakes()
        .then((multipliers) => console.log(JSON.stringify({ event: "stake_multipliers", multipliers }))),
    );
    // Its own promise: a chain that fails never keeps the miners' health from being checked.
    ctx.waitUntil(tickChainIndex(env).then((report) => console.log(JSON.stringify({ event: "chain_tick", report }))));
    ctx.waitUntil(scheduleRewardEpochs(env).then((report) => console.log(JSON.stringify({ event: "reward_epochs", report }))));
  },
} satisfies ExportedHandler<Env>;
