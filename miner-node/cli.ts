/**
 * The miner node: what an operator runs in front of an OpenAI-compatible
 * inference server (vLLM, Ollama, llama.cpp, SGLang, TGI) to serve a
 * Cortensor router. README "Run a miner" has the command lines.
 *
 *   npm run miner -- --upstream http://127.0.0.1:8000/v1 --router https://router.example \
 *     --key-file ~/.cortensor/miner.key --port 9000 --models Qwen/Qwen2.5-7B-Instruct
 *
 * It reads the router's signer, listens, joins the router with a signed
 * request (renewed every third of its lease) and, on SIGINT/SIGTERM, leaves
 * with a signed request and exits 0.
 */
import { privateKeyToAccount } from "viem/accounts";
import { type NodeArgs, parseNodeArgs } from "./args.ts";
import { gate } from "./gate.ts";
import { JoinError, keepJoined, leave } from "./join-client.ts";
import { consoleLog as log } from "./log.ts";
import { fetchRouterSigner } from "./router-anchor.ts";
import { ConfigError, newCredential, readCredentialFile, readKeyFile, readPrivateFile } from "./secrets.ts";
import { createMinerNodeApp, listen, type RunningServer } from "./server.ts";
import { callUpstream, upstreamOf } from "./upstream.ts";

async function main(args: NodeArgs) {
  const account = privateKeyToAccount(readKeyFile(args.keyFile));
  const credential = args.credentialFile ? readCredentialFile(args.credentialFile) : newCredential();
  const upstream = upstreamOf(args.upstream, args.upstreamKeyFile ? readPrivateFile(args.upstreamKeyFile, "upstream key") : undefined);
  const routerSigner = await fetchRouterSigner(args.router, args.routerSigner);
  log.info(
    args.routerSigner
      ? `router ${args.router} signs as ${routerSigner} (pinned)`
      : `router ${args.router} signs as ${routerSigner} (trusted on first use; pin it with --router-signer ${routerSigner})`,
  );
  await checkUpstream(upstream, args.models);

  const app = createMinerNodeApp({
    upstream,
    signer: account,
    routerSigner,
    models: args.models,
    gate: gate(args.maxConcurrency),
    log,
    credential,
    protocol: args.protocol,
    nodeId: account.address.toLowerCase(),
  });
  const server = await listen(app, args.host, args.port);
  const url = args.publicUrl ?? server.url;
  log.info(`miner node ${account.address} listening on ${server.url} (${args.protocol}, models ${args.models.join(",")}), forwarding to ${upstream.base.href}`);
  if (!args.publicUrl && (args.host === "0.0.0.0" || args.host === "::"))
    log.error(`--host ${args.host} without --public-url: the router is told ${url}; give the URL it reaches this node at`);

  const membership = {
    router: args.router,
    routerSigner,
    account,
    url,
    models: args.models,
    protocol: args.protocol,
    offchain: args.offchain,
    maxConcurrency: args.maxConcurrency,
    credential,
  };
  // Signals are handled from here on: one during the first join still leaves (a leave for no lease is harmless).
  const node: { lease?: { stop(): void } } = {};
  handleShutdown(server, node, args.join ? membership : undefined);
  if (!args.join) return log.info("not joining (--no-join): the router calls this node as an operator registered it");
  try {
    node.lease = await keepJoined(membership, log);
  } catch (err) {
    await server.close();
    throw err;
  }
}

/** Leaves the router (signed), stops serving, exits 0; a second signal exits at once. */
function handleShutdown(server: RunningServer, node: { lease?: { stop(): void } }, membership: Parameters<typeof leave>[0] | undefined) {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info(`${signal}: ${membership ? "leaving" : "stopping"}`);
    node.lease?.stop();
    if (membership) {
      try {
        await leave(membership);
        log.info(`left ${membership.router}`);
      } catch (err) {
        log.error(`leave failed: ${err instanceof Error ? err.message : String(err)} (the lease lapses by itself)`);
      }
    }
    await server.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

/** Warns (does not refuse: the upstream may still be loading) when the upstream is down or lacks a model the node announces. */
async function checkUpstream(upstream: ReturnType<typeof upstreamOf>, models: readonly string[]) {
  try {
    const res = await callUpstream(upstream, "models", { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return log.error(`the upstream's GET /models answered ${res.status}`);
    const listed = new Set(((await res.json()) as { data?: { id?: unknown }[] }).data?.map((m) => m.id));
    const missing = models.filter((m) => !listed.has(m));
    if (missing.length > 0) log.error(`the upstream does not list ${missing.join(", ")} (GET /models)`);
  } catch {
    log.error(`the upstream at ${upstream.base.href} is unreachable for now`);
  }
}

try {
  await main(parseNodeArgs(process.argv.slice(2)));
} catch (err) {
  // Only messages written here are printed: none of them carries a secret.
  if (err instanceof ConfigError || err instanceof JoinError) log.error(`miner node not started: ${err.message}`);
  // A system error (a port in use, an address not available) names no secret either.
  else if (err instanceof Error && "code" in err) log.error(`miner node not started: ${err.message}`);
  else log.error(`miner node not started: ${err instanceof Error ? err.name : "error"}`);
  process.exit(1);
}
