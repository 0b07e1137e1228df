/**
 * The runtimes the bench measures the router on:
 *  - "miniflare": the built bundle (dist/) on workerd through Miniflare's API,
 *    as production runs it, with no `wrangler dev` proxy in front;
 *  - "wrangler": `wrangler dev` (what `npm run dev` uses), for reference.
 * Both keep local Durable Objects and R2 on disk under the given folder, get the
 * same vars, and run under scripts/supervise.ts in their own process group, so
 * nothing outlives the bench.
 *
 * R2 for a measurement (startMiniflare's `r2: "separate"`): Miniflare's R2
 * simulator (SQLite and blob files behind a Durable Object) runs by default in
 * the Worker's own workerd, whose CPU the bench reads from /proc; on Cloudflare
 * R2 is another service and a Worker's CPU time counts the binding call, not
 * the storage. So the bench serves R2 from a second workerd (startR2Service):
 * the Worker keeps a real R2Bucket binding, whose calls go over loopback HTTP to
 * that process's simulator (r2-service/plugin.ts). Its CPU is read apart.
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startLocalRouter } from "../local-router.ts";
import { assertPortsFree, freePort } from "../ports.ts";
import { startSupervised, waitUntilUp } from "../supervised-child.ts";
import { cpuMs, workerdBelow } from "./cpu.ts";

const SERVER = fileURLToPath(new URL("./miniflare-server.ts", import.meta.url));

export type Runtime = {
  name: string;
  origin: string;
  /** The supervisor's pid: workerd runs below it. */
  pid: number;
  /** The R2 service its R2 bindings call, when separate: its CPU is not the Worker's. */
  r2?: R2Service;
  stop(): Promise<void>;
};

/** A workerd serving R2 to a measured Worker: the buckets' sockets, and an origin to read them back. */
export type R2Service = {
  origin: string;
  /** Its supervisor's pid: its workerd runs below it, not below the Worker's. */
  pid: number;
  /** Bucket name -> the loopback address of its socket. */
  sockets: Record<string, string>;
  stop(): Promise<void>;
};

/** The buckets the bench's Workers bind (wrangler.toml's PAYLOADS, the floor Worker's): the R2 service serves them all. */
const BENCH_BUCKETS = ["cortensor-payloads", "floor-payloads"];

/** Starts the R2 service: its own workerd (Miniflare) with R2 persisted under `persistTo`. */
export async function startR2Service(options: { persistTo: string; log?: (line: string) => void }): Promise<R2Service> {
  const port = await freePort();
  const sockets = Object.fromEntries(await Promise.all(BENCH_BUCKETS.map(async (bucket) => [bucket, `127.0.0.1:${await freePort()}`] as const)));
  const child = startSupervised(process.execPath, [SERVER, String(port), options.persistTo, "{}"], {
    ...(options.log ? { log: options.log } : {}),
    env: { BENCH_WORKER: "r2", BENCH_R2_SERVICE: JSON.stringify(sockets) },
  });
  const origin = await readyOrigin(child, "the R2 service");
  return { origin, pid: child.pid, sockets, stop: child.stop };
}

async function readyOrigin(child: ReturnType<typeof startSupervised>, what: string): Promise<string> {
  // The server prints its origin once workerd is ready.
  const ready = () => /ready (http:\/\/\S+)/.exec(child.output())?.[1];
  await waitUntilUp(child, async () => ready() !== undefined, what, 60);
  const origin = ready();
  if (!origin) throw new Error(`${what} printed no origin`);
  return origin;
}

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
  /**
   * "separate": R2 served by its own workerd (startR2Service, state under <persistTo>/r2-service), as
   * on Cloudflare, for every measurement; "in-process" (the default): Miniflare's simulator in this workerd.
   */
  r2?: "separate" | "in-process";
}): Promise<Runtime> {
  await assertPortsFree(options.inspectorPort ? [options.port, options.inspectorPort] : [options.port]);
  // BENCH_R2=in-process puts the simulator back in the measured workerd, to compare with figures measured that way.
  const separate = options.r2 === "separate" && process.env["BENCH_R2"] !== "in-process";
  const r2 = separate ? await startR2Service({ persistTo: `${options.persistTo}/r2-service`, ...(options.log ? { log: options.log } : {}) }) : undefined;
  try {
    const child = startSupervised(process.execPath, [SERVER, String(options.port), options.persistTo, JSON.stringify(options.vars)], {
      ...(options.log ? { log: options.log } : {}),
      env: {
        BENCH_WORKER: options.worker ?? "router",
        ...(options.dist ? { BENCH_DIST: options.dist } : {}),
        ...(options.inspectorPort ? { BENCH_INSPECTOR_PORT: String(options.inspectorPort) } : {}),
        ...(r2 ? { BENCH_R2_SERVICE: JSON.stringify(r2.sockets) } : {}),
      },
    });
    const origin = await readyOrigin(child, "Miniflare");
    return {
      name: options.worker === "floor" ? "floor" : "miniflare",
      origin,
      pid: child.pid,
      ...(r2 ? { r2 } : {}),
      async stop() {
        await child.stop();
        await r2?.stop();
      },
    };
  } catch (err) {
    await r2?.stop();
    throw err;
  }
}

/** The floor Worker (scripts/bench/floor/) on Miniflare, its state afresh, calling the miner at `minerUrl` (token t0); R2 in its own workerd. */
export function startFloor(options: { port: number; persistTo: string; minerUrl: string }): Promise<Runtime> {
  rmSync(options.persistTo, { recursive: true, force: true });
  return startMiniflare({ port: options.port, persistTo: options.persistTo, vars: { MINER_URL: options.minerUrl, MINER_TOKEN: "t0" }, worker: "floor", r2: "separate" });
}

/** What a runtime's CPU figures count, for the bench's output: its workerd, and the R2 service's apart. */
export function cpuScope(runtime: Runtime): string {
  const pids = (pid: number) => `pid ${workerdBelow(pid).join(", ") || "none"}`;
  return runtime.r2
    ? `${runtime.name}'s workerd only (${pids(runtime.pid)}; R2 served by a separate workerd, the R2 service's, ${pids(runtime.r2.pid)}: printed apart, not counted)`
    : `${runtime.name}'s workerd (${pids(runtime.pid)}; R2's simulator in it, counted)`;
}

export async function startWranglerDev(options: { port: number; persistTo: string; vars: Record<string, string>; log?: (line: string) => void }): Promise<Runtime> {
  const router = await startLocalRouter({ port: options.port, persistTo: options.persistTo, vars: options.vars, ...(options.log ? { log: options.log } : {}) });
  return { name: "wrangler dev", origin: router.origin, pid: router.pid, stop: router.stop };
}

/**
 * Starts counting a runtime's CPU from /proc: `worker`, the milliseconds its workerd used since (the
 * figure the bench reports), and `r2`, its R2 service's apart (a reference, never added in).
 */
export function cpuMeter(runtime: Runtime): () => { worker: number; r2?: number } {
  const workerPids = workerdBelow(runtime.pid);
  const r2Pids = runtime.r2 ? workerdBelow(runtime.r2.pid) : [];
  // Without its workerd the R2 service could not have answered: fail rather than print a figure of nothing.
  if (runtime.r2 && r2Pids.length === 0) throw new Error(`${runtime.name}'s R2 service has no workerd`);
  const before = { worker: cpuMs(workerPids), r2: cpuMs(r2Pids) };
  return () => ({ worker: cpuMs(workerPids) - before.worker, ...(runtime.r2 ? { r2: cpuMs(r2Pids) - before.r2 } : {}) });
}
