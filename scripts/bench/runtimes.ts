/**
 * The runtimes the bench measures the router on:
 *  - "miniflare": the built bundle (dist/) on workerd through Miniflare's API,
 *    as production runs it, with no `wrangler dev` proxy in front;
 *  - "wrangler": `wrangler dev` (what `npm run dev` uses), for reference.
 * Both keep local Durable Objects and R2 on disk under the given folder, get the
 * same vars, and run under scripts/supervise.ts in their own process group, so
 * nothing outlives the bench.
 */
import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startLocalRouter } from "../local-router.ts";
import { assertPortsFree } from "../ports.ts";

const SUPERVISE = fileURLToPath(new URL("../supervise.ts", import.meta.url));
const SERVER = fileURLToPath(new URL("./miniflare-server.ts", import.meta.url));

export type Runtime = { name: string; origin: string /** The supervisor's pid: workerd runs below it. */; pid: number; stop(): Promise<void> };

/** Writes dist/ the way `npm run build` does (wrangler's bundle of workers/index.ts). */
export function build(): void {
  execFileSync(process.execPath, ["node_modules/wrangler/bin/wrangler.js", "deploy", "--dry-run", "--outdir", "dist"], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
}

export async function startMiniflare(options: { port: number; persistTo: string; vars: Record<string, string>; log?: (line: string) => void }): Promise<Runtime> {
  await assertPortsFree([options.port]);
  const child = spawn(process.execPath, [SUPERVISE, process.execPath, SERVER, String(options.port), options.persistTo, JSON.stringify(options.vars)], {
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  const log = options.log ?? (() => {});
  let output = "";
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Miniflare did not start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
      chunk.toString().split("\n").filter(Boolean).forEach(log);
      const match = /ready (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Miniflare exited (${code}) before it was ready:\n${output}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const stop = async () => {
    child.stdin.end(); // the supervisor ends the group (SIGINT, then SIGKILL after 5 s)
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  try {
    const origin = await ready;
    return { name: "miniflare", origin, pid: child.pid ?? -1, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export async function startWranglerDev(options: { port: number; persistTo: string; vars: Record<string, string>; log?: (line: string) => void }): Promise<Runtime> {
  const router = await startLocalRouter({ port: options.port, persistTo: options.persistTo, vars: options.vars, ...(options.log ? { log: options.log } : {}) });
  return { name: "wrangler dev", origin: router.origin, pid: router.pid, stop: router.stop };
}
