/**
 * A second deployment of this router, on the local Workers runtime (wrangler
 * dev) on loopback, for the gateway's remote pools and for driving the
 * gateway with the official openai client. Sessions 0 and 7 are served by a
 * dev miner of the test fleet.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalRouter } from "../../scripts/local-router.ts";
import { freePort } from "../../scripts/ports.ts";
import { provision } from "../../scripts/provision.ts";
import { DEV_ADMIN_TOKEN } from "../../domain/config/dev-credentials.ts";

export async function startSecondRouter(options: { miner: { url: string; token: string } }) {
  const state = mkdtempSync(join(tmpdir(), "second-router-"));
  const router = await startLocalRouter({ port: await freePort(), persistTo: state, inspectorPort: await freePort() });
  await provision({
    origin: router.origin,
    adminKey: DEV_ADMIN_TOKEN,
    miners: [{ id: "second-router-miner", url: options.miner.url, credential: options.miner.token, models: ["dev-model"] }],
    sessions: [
      { id: 0, name: "second router session 0", model: "dev-model", redundancy: 1 },
      { id: 7, name: "second router session 7", model: "dev-model", redundancy: 1 },
    ],
  });
  return {
    origin: router.origin,
    stop: async () => {
      await router.stop();
      rmSync(state, { recursive: true, force: true });
    },
  };
}
