/**
 * Portkey's open-source AI gateway (a plain proxy) beside the router, on the
 * same miner: installed by the bench from npm into a cache folder (not a
 * dependency of the project), started as its own Node process on 127.0.0.1
 * under scripts/supervise.ts, and pointed at the miner as an OpenAI-compatible
 * provider with `x-portkey-provider: openai` and `x-portkey-custom-host`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { assertPortsFree } from "../ports.ts";
import { startSupervised, waitUntilUp } from "../supervised-child.ts";

const LOOPBACK_ONLY = fileURLToPath(new URL("./loopback-only.ts", import.meta.url));

export type Portkey = { version: string; origin: string; pid: number; stop(): Promise<void> };

/** Installs the gateway into `cacheDir` unless that version is there already; returns its entry script. */
export function installPortkey(cacheDir: string, version: string): string {
  const pkg = join(cacheDir, "node_modules/@portkey-ai/gateway/package.json");
  const installed = existsSync(pkg) ? (JSON.parse(readFileSync(pkg, "utf8")) as { version?: string }).version : undefined;
  if (installed !== version) {
    // --ignore-scripts: its only install script is patch-package, and the package ships no patches.
    execFileSync("npm", ["install", "--prefix", cacheDir, "--no-audit", "--no-fund", "--no-save", "--ignore-scripts", `@portkey-ai/gateway@${version}`], {
      stdio: ["ignore", "ignore", "inherit"],
      timeout: 300_000,
    });
  }
  const bin = (JSON.parse(readFileSync(pkg, "utf8")) as { bin?: string | Record<string, string> }).bin;
  const entry = typeof bin === "string" ? bin : Object.values(bin ?? {})[0];
  if (!entry) throw new Error(`@portkey-ai/gateway@${version} names no bin to start`);
  return resolve(join(cacheDir, "node_modules/@portkey-ai/gateway", entry));
}

export async function startPortkey(options: { cacheDir: string; version: string; port: number }): Promise<Portkey> {
  const entry = installPortkey(options.cacheDir, options.version);
  await assertPortsFree([options.port]);
  const child = startSupervised(process.execPath, ["--import", LOOPBACK_ONLY, entry, `--port=${options.port}`, "--headless"], { env: { NODE_ENV: "production" } });
  const origin = `http://127.0.0.1:${options.port}`;
  await waitUntilUp(
    child,
    async () => {
      await (await fetch(origin)).arrayBuffer();
      return true;
    },
    "Portkey's gateway",
    30,
  );
  return { version: options.version, origin, pid: child.pid, stop: child.stop };
}

/** The headers that route a request through Portkey to an OpenAI-compatible server. */
export const portkeyHeaders = (minerUrl: string, credential: string) => ({
  "x-portkey-provider": "openai",
  "x-portkey-custom-host": `${minerUrl}/v1`,
  authorization: `Bearer ${credential}`,
  "content-type": "application/json",
});
