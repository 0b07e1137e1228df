/**
 * `npm run dev`: the whole router on the local Workers runtime (wrangler dev:
 * workerd, local Durable Objects and R2) on port 5010, five dev miners (the
 * test double of tools/dev-miner) on loopback, a miner node (miner-node/cli.ts)
 * in front of a plain dev miner that joins the router by itself, as an
 * operator's node does, and sessions 0 (redundancy 1), 1 (redundancy 3) and 2
 * (redundancy 3, the miner node's) provisioned through the admin API, and a local chain
 * (scripts/chain/dev-chain.ts) with SessionV2 / SessionQueueV2 deployed that
 * the router indexes, its hybrid session 0 served on edge session 1.
 *
 * Runs any number of times over the same local state (provisioning updates
 * what exists). Whatever way it ends (Ctrl-C, a signal, a failed start, a
 * crash, `kill -9`), it leaves nothing running: wrangler runs under
 * scripts/supervise.ts, which ends its process group once we are gone.
 */
import { join, relative } from "node:path";
import { DEV_ADMIN_TOKEN, DEV_CUSTOMER_KEY, DEV_ROUTER_TOKEN } from "../domain/config/dev-credentials.ts";
import { DEV_NODE_MODEL, DEV_NODE_SESSION, type DevStack, startDevStack } from "./dev-stack.ts";

const PORT = Number(process.env["PORT"] ?? 5010);
const ORIGIN = `http://localhost:${PORT}`;

let stack: DevStack | undefined;
let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  await stack?.stop();
  process.exit(code);
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stop(0));
// npm's shell ended without signalling us (e.g. `kill <npm's pid>`): we are an orphan now, stop.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && void stop(0), 1000).unref();

try {
  stack = await startDevStack({
    port: PORT,
    sidePorts: "fixed",
    log: (line) => console.log(`[wrangler] ${line}`),
    nodeLog: (line) => console.log(`[miner-node] ${line}`),
  });
} catch (err) {
  // startDevStack stopped what it had started: a failed run leaves nothing behind on the ports.
  console.error(`npm run dev failed: ${err instanceof Error ? err.message : String(err)}`);
  await stop(1);
  await new Promise<never>(() => {}); // a stop already under way exits
}
const { miners, minerKeyDir, minerNode, facilitatorUrl, chain, cronEveryMs, routerExited } = stack as DevStack;
void routerExited.then((code) => {
  if (!stopping) {
    console.error(`wrangler dev exited (${code}); stopping`);
    void stop(code || 1);
  }
});

console.log(`
Router (local Workers runtime) listening on ${ORIGIN}
  API reference   ${ORIGIN}/docs   (OpenAPI 3.1: ${ORIGIN}/openapi.json)
  Router key      ${DEV_ROUTER_TOKEN}   (admin key: ${DEV_ADMIN_TOKEN}; both refused in production)
  Dev miners      ${miners.map((m) => `${m.name} ${m.url}`).join(", ")} (dev-miner-6 speaks NeuroShard)
  Miner node      ${minerNode.id} ${minerNode.url}: npm run miner in front of a plain dev miner (${minerNode.upstreamUrl}, no signer key),
                  joined by itself as ${minerNode.address} (a DEV-ONLY key), on probation until its answers agree
                  (GET ${ORIGIN}/api/v1/miners, console ${ORIGIN}/console#miners); it serves ${DEV_NODE_MODEL}, the model of session ${DEV_NODE_SESSION}
  Receipts        every task's at /api/v1/tasks/{session}/{task}/receipt (its completion's receipt_url); check one: npm run verify -- receipt.json --router-url ${ORIGIN}
  Sessions        0 (redundancy 1), 1 (redundancy 3), ${DEV_NODE_SESSION} (redundancy 3: the miner node beside dev-miner-4 and 5), 68 (redundancy 1; the docs' delegate, validate, factcheck examples)
  v3 pools        replicas 1 → session 91, 3 → 93, 5 → 95
  Trial routes    /api/v1/trial/* without a key: once per client per 15 minutes, on sessions 0 and 68
  x402            /api/v1/x402/* answer 402; pay end to end: ROUTER_URL=${ORIGIN} npm run pay -- /api/v1/x402/completions '{"session_id": 0, "prompt": "Hello"}'
                  (dev facilitator ${facilitatorUrl}: a test double, verifies signatures, records settlements)
  A2A / MCP       ${ORIGIN}/.well-known/agent-card.json, JSON-RPC ${ORIGIN}/api/v1/a2a (session 0), MCP ${ORIGIN}/mcp
  Gateway         ${ORIGIN}/v1/completions (envelope), ${ORIGIN}/openai/v1 (OpenAI clients' base URL)
                  dev customer key ${DEV_CUSTOMER_KEY} (local only); model "default" → session 0
  Env for the gateway example: CORTENSOR_GATEWAY_URL=${ORIGIN} CORTENSOR_API_KEY=${DEV_CUSTOMER_KEY}
  Env for the docs' examples:  ROUTER_URL=${ORIGIN} ROUTER_API_KEY=${DEV_ROUTER_TOKEN} SESSION_ID=0
  Chain           ${chain.rpcUrl} (chain id ${chain.chainId}, a local EVM; indexed every ${cronEveryMs / 1000} s: ${ORIGIN}/api/v1/chain/status)
                  WebSocket ${chain.wsUrl} (eth_subscribe: the Web3 SDK's "Listening to Events" runs against it)
                  SessionV2 ${chain.sessionAddress}, SessionQueueV2 ${chain.queueAddress}
                  on-chain session ${chain.hybridSessionId} is hybrid, served on edge session ${chain.hybridEdgeSessionId}, results written back:
                  npm run chain -- submit ${chain.hybridSessionId} "Hello"   then   npm run chain -- results ${chain.hybridSessionId} <taskId> --wait
                  RewardDistributor ${chain.distributorAddress} (token ${chain.tokenAddress}): miners' earnings posted every minute,
                  dev-miner-1..5 pay out to the dev customer; one claims its tokens with its key (written to ${relative(process.cwd(), minerKeyDir)}):
                  npm run chain -- claim --key-file ${relative(process.cwd(), join(minerKeyDir, "dev-miner-1.key"))} --router ${ORIGIN} --api-key ${DEV_CUSTOMER_KEY}

Try:
  curl -X POST ${ORIGIN}/api/v1/completions/0 \\
    -H "Content-Type: application/json" \\
    -H "Authorization: Bearer ${DEV_ROUTER_TOKEN}" \\
    -d '{"prompt": "Hello, how are you?", "stream": false, "timeout": 60}'

Ctrl-C stops everything.
`);
