/**
 * Runs one dev miner (a TEST DOUBLE of a GPU inference server):
 *   node tools/dev-miner/cli.ts --port 0 --token secret --latency-ms 50 --wrong-rate 0.1
 *   node tools/dev-miner/cli.ts --port 0 --signer-key 0x… --sign-as other-output   (signs its results; wrongly, here)
 */
import { parseArgs } from "node:util";
import type { DevMinerBehaviour } from "./behaviour.ts";
import type { NeuroShardNodeOptions } from "./neuroshard.ts";
import { startDevMiner } from "./server.ts";

const { values } = parseArgs({
  options: {
    name: { type: "string", default: "dev-miner" },
    port: { type: "string", default: "0" },
    token: { type: "string" },
    models: { type: "string", default: "dev-model" },
    "latency-ms": { type: "string", default: "0" },
    "error-rate": { type: "string", default: "0" },
    "wrong-rate": { type: "string", default: "0" },
    hang: { type: "boolean", default: false },
    hold: { type: "boolean", default: false },
    "defer-results": { type: "boolean", default: false },
    verdict: { type: "string", default: "auto" },
    "stream-chunk-delay-ms": { type: "string", default: "2" },
    "append-text": { type: "string", default: "" },
    "collude-group": { type: "string", default: "" },
    garbage: { type: "boolean", default: false },
    "huge-body-bytes": { type: "string", default: "0" },
    poison: { type: "string", default: "" },
    "context-words": { type: "string", default: "0" },
    seed: { type: "string", default: "1" },
    protocol: { type: "string", default: "openai" },
    role: { type: "string", default: "worker" },
    layers: { type: "string", default: "0,1,2,3" },
    /** A private key to sign results with (EIP-191) when the router asks; give only dev-only keys. */
    "signer-key": { type: "string" },
    /** right | other-key | other-output | none: how it signs (the wrong ways are for tests). */
    "sign-as": { type: "string", default: "right" },
  },
});

const miner = await startDevMiner({
  name: values.name,
  port: Number(values.port),
  ...(values.token ? { token: values.token } : {}),
  models: values.models
    .split(",")
    .map((m) => m.trim())
    .filter(Boolean),
  latencyMs: Number(values["latency-ms"]),
  errorRate: Number(values["error-rate"]),
  wrongRate: Number(values["wrong-rate"]),
  hang: values.hang,
  hold: values.hold,
  deferResults: values["defer-results"],
  verdict: values.verdict as DevMinerBehaviour["verdict"],
  streamChunkDelayMs: Number(values["stream-chunk-delay-ms"]),
  appendText: values["append-text"],
  colludeGroup: values["collude-group"],
  garbage: values.garbage,
  hugeBodyBytes: Number(values["huge-body-bytes"]),
  poison: values.poison,
  contextWords: Number(values["context-words"]),
  seed: Number(values.seed),
  protocol: values.protocol === "neuroshard" ? "neuroshard" : "openai",
  node: {
    role: values.role as NonNullable<NeuroShardNodeOptions["role"]>,
    layers: values.layers.split(",").filter(Boolean).map(Number),
  },
  ...(values["signer-key"] ? { signerKey: values["signer-key"] as `0x${string}` } : {}),
  signAs: values["sign-as"] as DevMinerBehaviour["signAs"],
});
console.log(`dev-miner ${miner.name} listening on ${miner.url}`);
const stop = () => void miner.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
