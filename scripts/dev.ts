/**
 * `npm run dev`: the whole router on the local Workers runtime (wrangler dev:
 * workerd, local Durable Objects and R2) on port 5010, three dev miners (the
 * test double of tools/dev-miner) on loopback, and sessions 0 (redundancy 1)
 * and 1 (redundancy 3) provisioned through the admin API.
 */
import { spawn } from "node:child_process";
import { startDevMiner, type DevMiner } from "../tools/dev-miner/server.ts";
import { DEV_ADMIN_TOKEN, DEV_ROUTER_TOKEN } from "../workers/config/config.ts";
import { provisionDevSetup } from "./dev-setup.ts";

const PORT = Number(process.env["PORT"] ?? 5010);
const ORIGIN = `http://localhost:${PORT}`;

const miners: DevMiner[] = await Promise.all(
  [1, 2, 3].map((i) =>
    startDevMiner({ name: `dev-miner-${i}`, port: PORT + i, token: `dev-miner-token-${i}`, latencyMs: 20 * i, models: ["dev-model"] }),
  ),
);

const wrangler = spawn(
  "wrangler",
  ["dev", "--port", String(PORT), "--ip", "127.0.0.1", "--var", "ENVIRONMENT:development", "--show-interactive-dev-session=false"],
  { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
);
const prefix = (chunk: Buffer) => process.stdout.write(chunk.toString().replace(/^(?=.)/gm, "[wrangler] "));
wrangler.stdout.on("data", prefix);
wrangler.stderr.on("data", prefix);

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  wrangler.kill("SIGINT");
  await Promise.all(miners.map((m) => m.close()));
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
wrangler.on("exit", (code) => {
  if (!stopping) {
    console.error(`wrangler dev exited (${code})`);
    void stop(code ?? 1);
  }
});

await waitForRouter(`http://127.0.0.1:${PORT}/api/v1/ping`, 90_000);
await provisionDevSetup({
  origin: `http://127.0.0.1:${PORT}`,
  adminKey: DEV_ADMIN_TOKEN,
  miners: miners.map((m, i) => ({ id: m.name, url: m.url, credential: `dev-miner-token-${i + 1}` })),
});

console.log(`
Router (local Workers runtime) listening on ${ORIGIN}
  API reference   ${ORIGIN}/docs   (OpenAPI 3.1: ${ORIGIN}/openapi.json)
  Router key      ${DEV_ROUTER_TOKEN}   (admin key: ${DEV_ADMIN_TOKEN}; both refused in production)
  Dev miners      ${miners.map((m) => `${m.name} ${m.url}`).join(", ")}
  Sessions        0 (redundancy 1), 1 (redundancy 3)

Try:
  curl -X POST ${ORIGIN}/api/v1/completions/0 \\
    -H "Content-Type: application/json" \\
    -H "Authorization: Bearer ${DEV_ROUTER_TOKEN}" \\
    -d '{"prompt": "Hello, how are you?", "stream": false, "timeout": 60}'

Ctrl-C stops everything.
`);

async function waitForRouter(url: string, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  console.error(`router did not answer on ${url} within ${timeoutMs / 1000}s`);
  await stop(1);
}
