/**
 * The runtimes the bench measures the router on:
 *  - "miniflare": the built bundle (dist/) on workerd through Miniflare's API,
 *    as production runs it, with no `wrangler dev` proxy in front;
 *  - "wrangler": `wrangler dev` (what `npm run dev` uses), for reference.
 * Both keep local Durable Objects and R2 on disk under the given folder, get the
 * same vars, and run under scripts/supervise.ts in their own process group, so
 * nothing outlives the bench.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startLocalRouter } from "../local-router.ts";
import { assertPortsFree } from "../ports.ts";
import { startSupervised, waitUntilUp } from "../supervised-child.ts";

const SERVER = fileURLToPath(new URL("./miniflare-server.ts", import.meta.url));

export type Runtime = { name: string; origin: string /** The supervisor's pid: workerd runs below it. */; pid: number; stop(): Promise<void> };

/** Writes dist/ the way `npm run build` does (wrangler's bundle of workers/index.ts). */
export function build(): void {
  execFileSync(process.execPath, ["node_modules/wrangler/bin/wrangler.js", "deploy", "--dry-run", "--outdir", "dist"], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
}

export async function startMiniflare(options: {
  port: number;
  persistTo: string;
  vars: Record<string, string>;
  log?: (line: string) => void;
  /** Where workerd's V8 inspector listens (for a CPU profile); none by default. */
  inspectorPort?: number;
  /** "floor": scripts/bench/floor/floor-worker.js instead of the router's bundle. */
  worker?: "router" | "floor";
  /** The router's built bundle folder (dist by default): another tree's build, to compare two. */
  dist?: string;
}): Promise<Runtime> {
  await assertPortsFree(options.inspectorPort ? [options.port, options.inspectorPort] : [options.port]);
  const child = startSupervised(process.execPath, [SERVER, String(options.port), options.persistTo, JSON.stringify(options.vars)], {
    ...(options.log ? { log: options.log } : {}),
    env: {
      BENCH_WORKER: options.worker ?? "router",
      ...(options.dist ? { BENCH_DIST: options.dist } : {}),
      ...(options.inspectorPort ? { BENCH_INSPECTOR_PORT: String(options.inspectorPort) } : {}),
    },
  });
  // The server prints its origin once workerd is ready.
  const ready = () => /ready (http:\/\/\S+)/.exec(child.output())?.[1];
  await waitUntilUp(child, async () => ready() !== undefined, "Miniflare", 60);
  const origin = ready();
  if (!origin) throw new Error("Miniflare printed no origin");
  return { name: options.worker === "floor" ? "floor" : "miniflare", origin, pid: child.pid, stop: child.stop };
}

export async function startWranglerDev(options: { port: number; persistTo: string; vars: Record<string, string>; log?: (line: string) => void }): Promise<Runtime> {
  const router = await startLocalRouter({ port: options.port, persistTo: options.persistTo, vars: options.vars, ...(options.log ? { log: options.log } : {}) });
  return { name: "wrangler dev", origin: router.origin, pid: router.pid, stop: router.stop };
}
