/**
 * What `npm run dev` runs, startable from a script or a test: the router on
 * the local Workers runtime (wrangler dev), five dev miners (the test double
 * of tools/dev-miner) and a NeuroShard one, the dev x402 facilitator, a local
 * chain with the contracts deployed, and the sessions provisioned through the
 * admin API. scripts/dev.ts runs it on fixed ports; the browser tests
 * (test/browser/) run it on free ports with state in a fresh folder.
 *
 * Whatever fails part-way, what was started is stopped before the error is
 * thrown: nothing is left on the ports.
 */
import { startFacilitator } from "../tools/dev-facilitator/server.ts";
import { startDevMiner } from "../tools/dev-miner/server.ts";
import { DEV_NODE_MODEL, DEV_NODE_SESSION, type DevMinerNode, startDevMinerNode } from "./dev-miner-node.ts";

export { DEV_NODE_MODEL, DEV_NODE_SESSION };
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { devMinerKey } from "../tools/dev-miner/sign.ts";
import { DEV_ADMIN_TOKEN, DEV_CUSTOMER_ID, DEV_CUSTOMER_KEY } from "../domain/config/dev-credentials.ts";
import { type DevChainInfo, startChainForDev } from "./chain/dev-chain.ts";
import { startLocalRouter } from "./local-router.ts";
import { assertPortsFree, freePort } from "./ports.ts";
import { provision } from "./provision.ts";

export const DEV_MODEL = "dev-model";
/** v3 replica-tier pools (the Web2 API Reference, "Delegate v3", "Validate v3"). */
export const DEV_POOLS = { "1": 91, "3": 93, "5": 95 } as const;
const DEV_PAY_TO = "0x000000000000000000000000000000000000dEaD";
/** Where `npm run dev` writes the signing dev miners' keys (`<name>.key`, mode 0600), for `npm run chain -- claim --key-file`. */
export const DEV_MINER_KEY_DIR = new URL("../.wrangler/dev-miner-keys", import.meta.url).pathname;

/** A dev miner of the stack: its admin API (POST /dev/config changes its faults at run time) takes `token`. */
export type StackMiner = { name: string; url: string; token: string; protocol: "openai" | "neuroshard"; models: string[] };

/** dev-miner-4 and dev-miner-5 also serve DEV_NODE_MODEL. */
const modelsOf = (n: number) => (n >= 4 ? [DEV_MODEL, DEV_NODE_MODEL] : [DEV_MODEL]);

export type DevStack = {
  /** The router, e.g. http://127.0.0.1:5010. */
  origin: string;
  miners: StackMiner[];
  /** Where the signing dev miners' keys are (`<name>.key`, mode 0600). */
  minerKeyDir: string;
  /** The miner node that joined by itself (on probation at first), in front of a dev miner without a signer key. */
  minerNode: Omit<DevMinerNode, "stop">;
  facilitatorUrl: string;
  chain: DevChainInfo;
  /** How often the stack fires the Worker's cron (wrangler dev fires none). */
  cronEveryMs: number;
  /** Stops everything, in reverse order of start. */
  stop(): Promise<void>;
  /** Settles with wrangler's exit code if it ends on its own. */
  routerExited: Promise<number | null>;
};

export async function startDevStack(options: {
  /** The router's port. */
  port: number;
  /** "fixed": miners on port+1..+6, the miner node +7 (its upstream +8), facilitator +10, chain +20 (as documented for `npm run dev`); "ephemeral": any free ports. */
  sidePorts: "fixed" | "ephemeral";
  /** Where wrangler keeps local state (default: wrangler's own .wrangler/state). */
  persistTo?: string;
  /** Where the chain's details are written for `npm run chain` (false: nowhere). */
  chainFile?: string | false;
  cronEveryMs?: number;
  log?: (line: string) => void;
  /** Where the miner node's lines go (default: nowhere). */
  nodeLog?: (line: string) => void;
  /** Where the signing dev miners' key files are written (default DEV_MINER_KEY_DIR). */
  minerKeyDir?: string;
  /** Seconds between reward epochs (default: the dev chain's 60; at least 10, REWARD_EPOCH_S's minimum); a test may post sooner. */
  rewardEpochS?: number;
}): Promise<DevStack> {
  const { port } = options;
  const side = (offset: number) => (options.sidePorts === "fixed" ? port + offset : 0);
  const cronEveryMs = options.cronEveryMs ?? 3_000;
  // Below REWARD_EPOCH_S's minimum the router would take its whole chain configuration as invalid (no rewards, no index).
  if (options.rewardEpochS !== undefined && !(Number.isInteger(options.rewardEpochS) && options.rewardEpochS >= 10)) {
    throw new Error(`rewardEpochS must be an integer of at least 10 seconds, not ${options.rewardEpochS}`);
  }
  // Before binding anything: a router left on the port by an earlier run would answer instead.
  const fixed = options.sidePorts === "fixed" ? [1, 2, 3, 4, 5, 6, 7, 8, 10, 20].map((o) => port + o) : [];
  await assertPortsFree([port, ...fixed], `stop it, or run on other ports: PORT=${port + 100} npm run dev`);

  const started: { close(): Promise<void> }[] = [];
  const stop = async () => {
    for (const thing of started.splice(0).reverse()) await thing.close().catch((err: unknown) => console.error(err));
  };
  try {
    // dev-miner-1 takes prompts inline; 2 resolves payload URNs itself (v2/v3);
    // 3 also delivers its results off-chain (202, then POST /api/v3/offchain/result);
    // 4 and 5 make a redundancy-5 pool possible, and also serve DEV_NODE_MODEL: the two established miners beside the miner node.
    const miners: StackMiner[] = [];
    for (const n of [1, 2, 3, 4, 5]) {
      const name = `dev-miner-${n}`;
      const token = `dev-miner-token-${n}`;
      // Each signs its results with a DEV-ONLY key anyone can derive (devMinerKey): registered under its address, so receipts show signed results.
      const miner = await startDevMiner({ name, port: side(n), token, latencyMs: 20 * n, models: modelsOf(n), deferResults: n === 3, signerKey: devMinerKey(name) });
      started.push(miner);
      miners.push({ name, url: miner.url, token, protocol: "openai", models: modelsOf(n) });
    }
    // dev-miner-6 speaks the NeuroShard node API (POST /api/v1/inference), not the OpenAI one.
    const neuroShard = await startDevMiner({
      name: "dev-miner-6",
      port: side(6),
      token: "dev-miner-token-6",
      latencyMs: 30,
      models: [DEV_MODEL],
      protocol: "neuroshard",
      node: { role: "worker", layers: [0, 1, 2, 3] },
    });
    started.push(neuroShard);
    miners.push({ name: neuroShard.name, url: neuroShard.url, token: "dev-miner-token-6", protocol: "neuroshard", models: [DEV_MODEL] });
    // x402: the dev facilitator (a test double that verifies signatures and records settlements).
    const facilitator = await startFacilitator("eip155:84532", side(10));
    started.push(facilitator);
    // The signing dev miners get gas money: each claims its rewards from its own address (npm run chain -- claim).
    const signing = miners.filter((m) => m.protocol === "openai");
    const chain = await startChainForDev(
      side(20),
      options.chainFile,
      signing.map((m) => privateKeyToAccount(devMinerKey(m.name)).address),
    );
    started.push(chain);
    const keyDir = options.minerKeyDir ?? DEV_MINER_KEY_DIR;
    await mkdir(keyDir, { recursive: true });
    for (const m of signing) {
      const file = join(keyDir, `${m.name}.key`);
      await writeFile(file, `${devMinerKey(m.name)}\n`, { mode: 0o600 });
      await chmod(file, 0o600); // writeFile's mode applies only to a new file
    }

    const router = await startLocalRouter({
      port,
      vars: {
        V3_SESSION_POOLS: JSON.stringify(DEV_POOLS),
        TRIAL_ROUTES: "all",
        TRIAL_SESSION_IDS: "0,68",
        A2A_SESSION_ID: "0",
        X402_ROUTES: "all",
        X402_FACILITATOR_URL: facilitator.url,
        X402_PAY_TO: DEV_PAY_TO,
        ...chain.vars,
        ...(options.rewardEpochS ? { REWARD_EPOCH_S: String(options.rewardEpochS) } : {}),
      },
      ...(options.persistTo ? { persistTo: options.persistTo } : {}),
      ...(options.sidePorts === "ephemeral" ? { inspectorPort: await freePort() } : {}),
      ...(options.log ? { log: options.log } : {}),
      testScheduled: true,
    });
    started.push({ close: router.stop });

    // The dev customer (its documented key, provisioned on first use) is the signing dev miners' payout account:
    // their rewards are credited to it and its key reads their claims (GET /neuroshard/api/v1/wallet/claims).
    const devCustomer = await fetch(`${router.origin}/neuroshard/api/v1/wallet/balance`, { headers: { authorization: `Bearer ${DEV_CUSTOMER_KEY}` } });
    if (!devCustomer.ok) throw new Error(`dev customer: ${devCustomer.status} ${await devCustomer.text()}`);
    await provision({
      origin: router.origin,
      adminKey: DEV_ADMIN_TOKEN,
      miners: miners.map((m, i) => ({
        id: m.name,
        url: m.url,
        credential: m.token,
        models: m.models,
        ...(m.protocol === "neuroshard" ? { protocol: "neuroshard" as const } : { offchain: i === 1 || i === 2, signer_key: devMinerKey(m.name), payout_account: DEV_CUSTOMER_ID }),
      })),
      sessions: [
        { id: 0, name: "dev session 0 (redundancy 1)", redundancy: 1, model: DEV_MODEL },
        { id: 1, name: "dev session 1 (redundancy 3)", redundancy: 3, model: DEV_MODEL },
        { id: DEV_NODE_SESSION, name: `dev session ${DEV_NODE_SESSION} (redundancy 3: the miner node beside two established dev miners)`, redundancy: 3, model: DEV_NODE_MODEL },
        { id: 68, name: "dev session 68 (the docs' examples)", redundancy: 1, model: DEV_MODEL },
        ...Object.entries(DEV_POOLS).map(([replicas, id]) => ({ id, name: `v3 pool, ${replicas} replica(s)`, redundancy: Number(replicas), model: DEV_MODEL })),
      ],
    });
    // The miner node joins by itself (no admin call): the router must be up and answering its probe.
    const { stop: stopNode, ...minerNode } = await startDevMinerNode({
      router: router.origin,
      model: DEV_NODE_MODEL,
      port: side(7),
      upstreamPort: side(8),
      ...(options.nodeLog ? { log: options.nodeLog } : {}),
    });
    started.push({ close: stopNode });
    // One health check now, as the cron would: it reads the NeuroShard miner's role and layers (peers, layers).
    const checked = await fetch(`${router.origin}/api/v1/admin/miners/health-check`, { method: "POST", headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` } });
    if (!checked.ok) throw new Error(`health check: ${checked.status} ${await checked.text()}`);
    const cron = setInterval(() => void fetch(`${router.origin}/__scheduled?cron=*/2+*+*+*+*`).catch(() => undefined), cronEveryMs);
    started.push({ close: async () => clearInterval(cron) });
    return { origin: router.origin, miners, minerKeyDir: keyDir, minerNode, facilitatorUrl: facilitator.url, chain: chain.info, cronEveryMs, stop, routerExited: router.exited };
  } catch (err) {
    await stop();
    throw err;
  }
}
