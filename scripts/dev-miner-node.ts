/**
 * The miner node of `npm run dev`: the path a real operator takes, run
 * locally. A dev miner started WITHOUT a signer key stands in for the
 * operator's inference server (a plain OpenAI-compatible upstream, as vLLM
 * or Ollama would be), and `miner-node/cli.ts` runs in front of it with a
 * DEV-ONLY key in a mode-600 file, joining the router by itself (no admin
 * registration): it signs the results, renews its lease, and leaves when the
 * stack stops. It starts on probation, so it serves a model only it and two
 * established dev miners serve, on a redundancy-3 session: every task there
 * seats it beside them.
 *
 * The node runs under scripts/supervise.ts like wrangler: stopping the stack
 * (or the stack's process ending in any way) ends it; on that SIGINT it
 * leaves the router with a signed request.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { privateKeyToAccount } from "viem/accounts";
import { startDevMiner } from "../tools/dev-miner/server.ts";
import { devMinerKey } from "../tools/dev-miner/sign.ts";
import { DEV_ADMIN_TOKEN } from "../domain/config/dev-credentials.ts";
import { startSupervised, waitUntilUp } from "./supervised-child.ts";

const CLI = fileURLToPath(new URL("../miner-node/cli.ts", import.meta.url));

/** The model of the miner node's session: served by the node and two established dev miners (4 and 5) only. */
export const DEV_NODE_MODEL = "dev-node-model";
/** The redundancy-3 session of DEV_NODE_MODEL: every task seats the probationary miner node beside dev-miner-4 and dev-miner-5. */
export const DEV_NODE_SESSION = 2;

/** The label of the node's DEV-ONLY key (devMinerKey): anyone can derive it, so it signs nothing of value. */
export const DEV_NODE_KEY_LABEL = "dev-miner-node";

export type DevMinerNode = {
  /** The id the router gave it when it joined (`joined-…`). */
  id: string;
  /** Where the router calls it. */
  url: string;
  /** Its signing address (from its DEV-ONLY key). */
  address: string;
  /** The plain upstream it forwards to (a dev miner without a signer key). */
  upstreamUrl: string;
  stop(): Promise<void>;
};

type Listed = { id: string; url: string; evm_address: string | null; source: string };

export async function startDevMinerNode(options: {
  router: string;
  model: string;
  /** The node's port (0: any free one). */
  port: number;
  /** The upstream dev miner's port (0: any free one). */
  upstreamPort: number;
  log?: (line: string) => void;
}): Promise<DevMinerNode> {
  const started: { close(): Promise<void> }[] = [];
  const stop = async () => {
    for (const thing of started.splice(0).reverse()) await thing.close().catch((err: unknown) => console.error(err));
  };
  try {
    // No token, no signer key: it answers as a plain OpenAI-compatible server, and the node signs.
    const upstream = await startDevMiner({ name: "dev-miner-node-upstream", port: options.upstreamPort, latencyMs: 25, models: [options.model] });
    started.push(upstream);

    const key = devMinerKey(DEV_NODE_KEY_LABEL);
    const address = privateKeyToAccount(key).address;
    const dir = mkdtempSync(join(tmpdir(), "dev-miner-node-"));
    started.push({ close: async () => rmSync(dir, { recursive: true, force: true }) });
    const keyFile = join(dir, "miner.key");
    // The node refuses a key file others may read: written at mode 600 from the start.
    writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
    chmodSync(keyFile, 0o600);

    const args = [CLI, "--upstream", `${upstream.url}/v1`, "--router", options.router, "--key-file", keyFile, "--port", String(options.port), "--models", options.model];
    const child = startSupervised(process.execPath, args, options.log ? { log: options.log } : {});
    started.push({ close: child.stop });

    // Up once the router lists a joined miner under the node's address (the node joined by itself).
    let found: Listed | undefined;
    await waitUntilUp(
      child,
      async () => {
        const res = await fetch(`${options.router}/api/v1/miners`, { headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` } });
        if (!res.ok) return false;
        const { miners } = (await res.json()) as { miners: Listed[] };
        found = miners.find((m) => m.source === "joined" && m.evm_address?.toLowerCase() === address.toLowerCase());
        return found !== undefined;
      },
      "the dev miner node",
      60,
    );
    const { id, url } = found as Listed;
    return { id, url, address, upstreamUrl: upstream.url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
