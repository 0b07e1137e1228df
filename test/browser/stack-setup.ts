/**
 * Global setup of the `browser` project (vitest.config.ts): the stack of
 * `npm run dev` (scripts/dev-stack.ts: wrangler dev, dev miners, facilitator,
 * local chain, sessions provisioned) on free loopback ports, with its local
 * state in a fresh folder, shared by every browser test file. Tests read it
 * with `inject("stack")`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { type DevStack, type StackMiner, startDevStack } from "../../scripts/dev-stack.ts";
import { freePort } from "../../scripts/ports.ts";

export default async function setup(project: TestProject) {
  const state = mkdtempSync(join(tmpdir(), "browser-stack-"));
  const stack = await startDevStack({ port: await freePort(), sidePorts: "ephemeral", persistTo: state, chainFile: false, minerKeyDir: join(state, "keys") }).catch(
    (err: unknown) => {
      rmSync(state, { recursive: true, force: true });
      throw err;
    },
  );
  project.provide("stack", { origin: stack.origin, miners: stack.miners, minerNode: stack.minerNode, facilitatorUrl: stack.facilitatorUrl });
  return async () => {
    await stack.stop();
    rmSync(state, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    /** The `npm run dev` stack the browser tests run against: the router's origin, its dev miners (POST <url>/dev/config with their token changes their faults). */
    /** `minerNode`: the miner node that joined by itself (scripts/dev-miner-node.ts), serving session DEV_NODE_SESSION beside dev-miner-4 and 5. */
    stack: { origin: string; miners: StackMiner[]; minerNode: DevStack["minerNode"]; facilitatorUrl: string };
  }
}
