/**
 * `npm run dev`: the whole router on the local Workers runtime (wrangler dev:
 * workerd, local Durable Objects and R2) on port 5010, five dev miners (the
 * test double of tools/dev-miner) on loopback, and sessions 0 (redundancy 1)
 * and 1 (redundancy 3) provisioned through the admin API, and a local chain
 * (scripts/chain/dev-chain.ts) with SessionV2 / SessionQueueV2 deployed that
 * the router indexes, its hybrid session 0 served on edge session 0.
 *
 * Runs any number of times over the same local state (provisioning updates
 * what exists). Whatever way it ends (Ctrl-C, a signal, a failed start, a
 * crash, `kill -9`), it leaves nothing running: wrangler runs under
 * scripts/supervise.ts, which ends its process group once we are gone.
 */
import { privateKeyToAccount } from "viem/accounts";
import { startDevMiner } from "../tools/dev-miner/server.ts";
import { devMinerKey } from "../tools/dev-miner/sign.ts";
import { DEV_ADMIN_TOKEN, DEV_CUSTOMER_KEY, DEV_ROUTER_TOKEN } from "../workers/config/dev-credentials.ts";
import { startLocalRouter } from "./local-router.ts";
import { startFacilitator } from "../tools/dev-facilitator/server.ts";
import { assertPortsFree } from "./ports.ts";
import { provision } from "./provision.ts";
import { startChainForDev } from "./chain/dev-chain.ts";

const PORT = Number(process.env["PORT"] ?? 5010);
const ORIGIN = `http://localhost:${PORT}`;
const MODEL = "dev-model";
const MINER_PORTS = [1, 2, 3, 4, 5].map((i) => PORT + i);
// dev-miner-6 speaks the NeuroShard node API (POST /api/v1/inference), not the OpenAI one.
const NEUROSHARD_MINER_PORT = PORT + 6;
const FACILITATOR_PORT = PORT + 10;
const CHAIN_PORT = PORT + 20;
/** How often the dev run fires the Worker's cron (the chain tick, miner health): wrangler dev fires none. */
const CRON_EVERY_MS = 3_000;
const DEV_PAY_TO = "0x000000000000000000000000000000000000dEaD";
// v3 replica-tier pools (the Web2 API Reference, "Delegate v3", "Validate v3").
const POOLS = { "1": 91, "3": 93, "5": 95 };

/** What this run started, stopped in reverse order. */
const started: { close(): Promise<void> }[] = [];
let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  for (const thing of started.reverse()) await thing.close().catch((err: unknown) => console.error(err));
  process.exit(code);
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stop(0));
// npm's shell ended without signalling us (e.g. `kill <npm's pid>`): we are an orphan now, stop.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && void stop(0), 1000).unref();

async function start() {
  // Before binding anything: a router left on the port by an earlier run would answer instead.
  await assertPortsFree([PORT, ...MINER_PORTS, NEUROSHARD_MINER_PORT, FACILITATOR_PORT, CHAIN_PORT], "stop it, or run on other ports: PORT=5110 npm run dev");
  // dev-miner-1 takes prompts inline; 2 resolves payload URNs itself (v2/v3);
  // 3 also delivers its results off-chain (202, then POST /api/v3/offchain/result);
  // 4 and 5 make a redundancy-5 pool possible.
  const miners = [];
  for (const [i, port] of MINER_PORTS.entries()) {
    const n = i + 1;
    // Each signs its results with a DEV-ONLY key anyone can derive (devMinerKey): registered under its address, so receipts show signed results.
    const signerKey = devMinerKey(`dev-miner-${n}`);
    const miner = await startDevMiner({ name: `dev-miner-${n}`, port, token: `dev-miner-token-${n}`, latencyMs: 20 * n, models: [MODEL], deferResults: n === 3, signerKey });
    started.push(miner);
    miners.push(miner);
  }
  const neuroShardMiner = await startDevMiner({
    name: "dev-miner-6",
    port: NEUROSHARD_MINER_PORT,
    token: "dev-miner-token-6",
    latencyMs: 30,
    models: [MODEL],
    protocol: "neuroshard",
    node: { role: "worker", layers: [0, 1, 2, 3] },
  });
  started.push(neuroShardMiner);
  // x402: the dev facilitator (a test double that verifies signatures and records settlements).
  const facilitator = await startFacilitator("eip155:84532", FACILITATOR_PORT);
  started.push(facilitator);
  const chain = await startChainForDev(CHAIN_PORT);
  started.push(chain);

  const router = await startLocalRouter({
    port: PORT,
    vars: {
      V3_SESSION_POOLS: JSON.stringify(POOLS),
      TRIAL_ROUTES: "all",
      TRIAL_SESSION_IDS: "0,68",
      A2A_SESSION_ID: "0",
      X402_ROUTES: "all",
      X402_FACILITATOR_URL: facilitator.url,
      X402_PAY_TO: DEV_PAY_TO,
      ...chain.vars,
    },
    log: (line) => console.log(`[wrangler] ${line}`),
    testScheduled: true,
  });
  started.push({ close: router.stop });
  void router.exited.then((code) => {
    if (!stopping) {
      console.error(`wrangler dev exited (${code}); stopping`);
      void stop(code || 1);
    }
  });

  await provision({
    origin: router.origin,
    adminKey: DEV_ADMIN_TOKEN,
    miners: [
      ...miners.map((m, i) => ({
        id: m.name,
        url: m.url,
        credential: `dev-miner-token-${i + 1}`,
        models: [MODEL],
        offchain: i === 1 || i === 2,
        evm_address: privateKeyToAccount(devMinerKey(m.name)).address,
      })),
      { id: neuroShardMiner.name, url: neuroShardMiner.url, credential: "dev-miner-token-6", models: [MODEL], protocol: "neuroshard" as const },
    ],
    sessions: [
      { id: 0, name: "dev session 0 (redundancy 1)", redundancy: 1, model: MODEL },
      { id: 1, name: "dev session 1 (redundancy 3)", redundancy: 3, model: MODEL },
      { id: 68, name: "dev session 68 (the docs' examples)", redundancy: 1, model: MODEL },
      ...Object.entries(POOLS).map(([replicas, id]) => ({ id, name: `v3 pool, ${replicas} replica(s)`, redundancy: Number(replicas), model: MODEL })),
    ],
  });
  // One health check now, as the cron would: it reads the NeuroShard miner's role and layers (peers, layers).
  const checked = await fetch(`${router.origin}/api/v1/admin/miners/health-check`, { method: "POST", headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` } });
  if (!checked.ok) throw new Error(`health check: ${checked.status} ${await checked.text()}`);
  const cron = setInterval(() => void fetch(`${router.origin}/__scheduled?cron=*/2+*+*+*+*`).catch(() => undefined), CRON_EVERY_MS);
  started.push({ close: async () => clearInterval(cron) });
  return { miners: [...miners, neuroShardMiner], facilitator, chain: chain.info };
}

const { miners, facilitator, chain } = await start().catch(async (err: unknown) => {
  // Stop everything started so far: a failed run leaves nothing behind on the ports.
  if (!stopping) console.error(`npm run dev failed: ${err instanceof Error ? err.message : String(err)}`);
  await stop(1);
  return new Promise<never>(() => {}); // a stop already under way exits
});

console.log(`
Router (local Workers runtime) listening on ${ORIGIN}
  API reference   ${ORIGIN}/docs   (OpenAPI 3.1: ${ORIGIN}/openapi.json)
  Router key      ${DEV_ROUTER_TOKEN}   (admin key: ${DEV_ADMIN_TOKEN}; both refused in production)
  Dev miners      ${miners.map((m) => `${m.name} ${m.url}`).join(", ")} (dev-miner-6 speaks NeuroShard)
  Receipts        every task's at /api/v1/tasks/{session}/{task}/receipt (its completion's receipt_url); check one: npm run verify -- receipt.json
  Sessions        0 (redundancy 1), 1 (redundancy 3), 68 (redundancy 1; the docs' delegate, validate, factcheck examples)
  v3 pools        replicas 1 → session 91, 3 → 93, 5 → 95
  Trial routes    /api/v1/trial/* without a key: once per client per 15 minutes, on sessions 0 and 68
  x402            /api/v1/x402/* answer 402; pay end to end: npm run pay -- /api/v1/x402/completions '{"session_id": 0, "prompt": "Hello"}'
                  (dev facilitator ${facilitator.url}: a test double, verifies signatures, records settlements)
  A2A / MCP       ${ORIGIN}/.well-known/agent-card.json, JSON-RPC ${ORIGIN}/api/v1/a2a (session 0), MCP ${ORIGIN}/mcp
  Gateway         ${ORIGIN}/v1/completions (envelope), ${ORIGIN}/openai/v1 (OpenAI clients' base URL)
                  dev customer key ${DEV_CUSTOMER_KEY} (local only); model "default" → session 0
  Env for the gateway example: CORTENSOR_GATEWAY_URL=${ORIGIN} CORTENSOR_API_KEY=${DEV_CUSTOMER_KEY}
  Env for the docs' examples:  ROUTER_URL=${ORIGIN} ROUTER_API_KEY=${DEV_ROUTER_TOKEN} SESSION_ID=0
  Chain           ${chain.rpcUrl} (chain id ${chain.chainId}, a local EVM; indexed every ${CRON_EVERY_MS / 1000} s: ${ORIGIN}/api/v1/chain/status)
                  SessionV2 ${chain.sessionAddress}, SessionQueueV2 ${chain.queueAddress}
                  on-chain session ${chain.hybridSessionId} is hybrid, served on edge session 0, results written back:
                  npm run chain -- submit ${chain.hybridSessionId} "Hello"   then   npm run chain -- results ${chain.hybridSessionId} <taskId> --wait

Try:
  curl -X POST ${ORIGIN}/api/v1/completions/0 \\
    -H "Content-Type: application/json" \\
    -H "Authorization: Bearer ${DEV_ROUTER_TOKEN}" \\
    -d '{"prompt": "Hello, how are you?", "stream": false, "timeout": 60}'

Ctrl-C stops everything.
`);
