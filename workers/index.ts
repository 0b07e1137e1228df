import { createApp } from "./app";
import type { Env } from "./env";
import { registryStub } from "./stubs";

export { SessionObject } from "../durable-objects/session/session-object";
export { MinerRegistry } from "../durable-objects/miner-registry";
export { LedgerObject } from "../durable-objects/ledger";
export { QuotaObject } from "../durable-objects/quota";
export { A2ATaskStoreObject } from "../durable-objects/a2a-tasks";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(
      registryStub(env)
        .checkHealth()
        .then((results) => console.log(JSON.stringify({ event: "miner_health", results }))),
    );
  },
} satisfies ExportedHandler<Env>;
