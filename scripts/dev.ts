/**
 * `npm run dev`: the whole router on the local Workers runtime (wrangler dev:
 * workerd, local Durable Objects and R2) on port 5010, five dev miners (the
 * test double of tools/dev-miner) on loopback, and sessions 0 (redundancy 1)
 * and 1 (redundancy 3) provisioned through the admin API.
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

const PORT = Number(process.env["PORT"] ?? 5010);
const ORIGIN = `http://localhost:${PORT}`;
const MODEL = "dev-model";
const MINER_PORTS = [1, 2, 3, 4, 5].map((i) => PORT + i);
const FACILITATOR_PORT = PORT + 10;
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
  await assertPortsFree([PORT, ...MINER_PORTS, FACILITATOR_PORT], "stop it, or run on other ports: PORT=5110 npm run dev");
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
  // x402: the dev facilitator (a test double that verifies signatures and records settlements).
  const facilitator = await startFacilitator("eip155:84532", FACILITATOR_PORT);
  started.push(facilitator);

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
    },
    log: (line) => console.log(`[wrangler] ${line}`),
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
    miners: miners.map((m, i) => ({
      id: m.name,
      url: m.url,
      credential: `dev-miner-token-${i + 1}`,
      models: [MODEL],
      offchain: i === 1 || i === 2,
      evm_address: privateKeyToAccount(devMinerKey(m.name)).address,
    })),
    sessions: [
      { id: 0, name: "dev session 0 (redundancy 1)", redundancy: 1, model: MODEL },
      { id: 1, name: "dev session 1 (redundancy 3)", redundancy: 3, model: MODEL },
      { id: 68, name: "dev session 68 (the docs' examples)", redundancy: 1, model: MODEL },
      ...Object.entries(POOLS).map(([replicas, id]) => ({ id, name: `v3 pool, ${replicas} replica(s)`, redundancy: Number(replicas), model: MODEL })),
    ],
  });
  return { miners, facilitator };
}

const { miners, facilitator } = await start().catch(async (err: unknown) => {
  // Stop everything started so far: a failed run leaves nothing behind on the ports.
  if (!stopping) console.error(`npm run dev failed: ${err instanceof Error ? err.message : String(err)}`);
  await stop(1);
  return new Promise<never>(() => {}); // a stop already under way exits
});

console.log(`
Router (local Workers runtime) listening on ${ORIGIN}
  API reference   ${ORIGIN}/docs   (OpenAPI 3.1: ${ORIGIN}/openapi.json)
  Router key      ${DEV_ROUTER_TOKEN}   (admin key: ${DEV_ADMIN_TOKEN}; both refused in production)
  Dev miners      ${miners.map((m) => `${m.name} ${m.url}`).join(", ")}
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

Try:
  curl -X POST ${ORIGIN}/api/v1/completions/0 \\
    -H "Content-Type: application/json" \\
    -H "Authorization: Bearer ${DEV_ROUTER_TOKEN}" \\
    -d '{"prompt": "Hello, how are you?", "stream": false, "timeout": 60}'

Ctrl-C stops everything.
`);
