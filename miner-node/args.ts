/**
 * The node's command line, checked: a flag that does not read is a
 * ConfigError naming it (the CLI prints it and exits non-zero).
 */
import { parseArgs } from "node:util";
import { isAddress, type Hex } from "viem";
import { ConfigError } from "./secrets.ts";

export type NodeArgs = {
  upstream: string;
  router: string;
  keyFile: string;
  port: number;
  host: string;
  models: string[];
  protocol: "openai" | "neuroshard";
  offchain: boolean;
  /** The URL the router reaches the node at; none: http://host:port once listening. */
  publicUrl: string | undefined;
  maxConcurrency: number;
  routerSigner: Hex | undefined;
  /** A fixed credential (admin registration); none: a fresh random one each start. */
  credentialFile: string | undefined;
  upstreamKeyFile: string | undefined;
  /** false (`--no-join`): serve only, for a node an operator registered through the admin API. */
  join: boolean;
};

export const USAGE = `usage: npm run miner -- --upstream <OpenAI-compatible base URL> --router <router URL> --key-file <file> --port <N> --models <a,b>
  [--protocol openai|neuroshard] [--offchain] [--host 127.0.0.1] [--public-url <url>] [--max-concurrency 4]
  [--router-signer 0x…] [--credential-file <file>] [--upstream-key-file <file>] [--no-join]`;

const httpUrl = (flag: string, value: string | undefined): string => {
  if (!value) throw new ConfigError(`--${flag} is required\n${USAGE}`);
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return value;
  } catch {}
  throw new ConfigError(`--${flag} must be an http(s) URL, not ${value}`);
};

const OPTIONS = {
  upstream: { type: "string" },
  router: { type: "string" },
  "key-file": { type: "string" },
  port: { type: "string" },
  host: { type: "string", default: "127.0.0.1" },
  models: { type: "string" },
  protocol: { type: "string", default: "openai" },
  offchain: { type: "boolean", default: false },
  "public-url": { type: "string" },
  "max-concurrency": { type: "string", default: "4" },
  "router-signer": { type: "string" },
  "credential-file": { type: "string" },
  "upstream-key-file": { type: "string" },
  "no-join": { type: "boolean", default: false },
} as const;

function readFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS }).values;
  } catch (err) {
    throw new ConfigError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
}

export function parseNodeArgs(argv: string[]): NodeArgs {
  const values = readFlags(argv);
  const port = Number(values.port);
  if (values.port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port must be a port number (0-65535)\n${USAGE}`);
  const models = (values.models ?? "")
    .split(",")
    .map((m) => m.trim())
    .filter(Boolean);
  if (models.length === 0) throw new ConfigError(`--models names at least one model\n${USAGE}`);
  if (values.protocol !== "openai" && values.protocol !== "neuroshard") throw new ConfigError(`--protocol is openai or neuroshard, not ${values.protocol}`);
  if (values.offchain && values.protocol === "neuroshard") throw new ConfigError("--offchain is an OpenAI-protocol extension; a NeuroShard node takes its prompts inline");
  const maxConcurrency = Number(values["max-concurrency"]);
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 1024) throw new ConfigError("--max-concurrency must be an integer from 1 to 1024");
  const signer = values["router-signer"];
  if (signer !== undefined && !isAddress(signer, { strict: false })) throw new ConfigError("--router-signer must be a 0x-prefixed 20-byte address");
  if (!values["key-file"]) throw new ConfigError(`--key-file is required\n${USAGE}`);
  return {
    upstream: httpUrl("upstream", values.upstream),
    router: httpUrl("router", values.router),
    keyFile: values["key-file"],
    port,
    host: values.host,
    models,
    protocol: values.protocol,
    offchain: values.offchain,
    publicUrl: values["public-url"] === undefined ? undefined : httpUrl("public-url", values["public-url"]),
    maxConcurrency,
    routerSigner: signer as Hex | undefined,
    credentialFile: values["credential-file"],
    upstreamKeyFile: values["upstream-key-file"],
    join: !values["no-join"],
  };
}
