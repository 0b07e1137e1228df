/**
 * The router as production runs it, for the bench: the bundle `npm run build`
 * writes (dist/index.js) on workerd through Miniflare's API, with no
 * `wrangler dev` proxy in front; local SQLite-backed Durable Objects and R2
 * persisted on disk. Run under scripts/supervise.ts (see runtimes.ts), so
 * workerd ends with us however we end.
 *
 *   node scripts/bench/miniflare-server.ts <port> <persist dir> <vars as JSON>
 *
 * Prints `ready <url>` once the router answers. With BENCH_INSPECTOR_PORT set,
 * workerd's V8 inspector listens on that loopback port (for scripts/bench/profile.ts).
 *
 * R2: with BENCH_R2_SERVICE (JSON, bucket name -> address of the R2 service's
 * socket for it), the Worker's R2 bindings are served by that other workerd
 * (runtimes.ts startR2Service) instead of a simulator inside this one;
 * BENCH_WORKER=r2 runs that R2 service itself (r2-service/).
 */
import { fileURLToPath } from "node:url";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

const [portArg, persistTo, varsJson] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || !persistTo || !varsJson) {
  console.error("usage: node scripts/bench/miniflare-server.ts <port> <persist dir> <vars as JSON>");
  process.exit(2);
}
const vars: Record<string, string> = JSON.parse(varsJson);
const inspectorPort = process.env["BENCH_INSPECTOR_PORT"] ? Number(process.env["BENCH_INSPECTOR_PORT"]) : undefined;

// The same bindings as wrangler.toml (the bundle's Durable Object classes, the R2 bucket),
// in Miniflare 4's option shape, which this Miniflare converts. BENCH_WORKER=floor runs
// floor/floor-worker.js instead: the least a task can cost here (see that file);
// BENCH_WORKER=r2 the R2 service (r2-service/: its read-back Worker and a socket a bucket).
const role = process.env["BENCH_WORKER"] ?? "router";
const r2Service: Record<string, string> | undefined = process.env["BENCH_R2_SERVICE"] ? JSON.parse(process.env["BENCH_R2_SERVICE"]) : undefined;
const PLUGIN = fileURLToPath(new URL("./r2-service/plugin.ts", import.meta.url));
type UnsafeBinding = { name: string; type: string; plugin: { package: string; name: string }; options: Record<string, string> };
type Worker = {
  scriptPath: string;
  durableObjects?: Record<string, { className: string; useSQLite: boolean }>;
  r2Buckets?: Record<string, string>;
  unsafeBindings?: UnsafeBinding[];
  assets?: { directory: string; binding: string; routerConfig: { has_user_worker: boolean; invoke_user_worker_ahead_of_assets: boolean } };
};
const plugin = (name: string, type: string, options: Record<string, string>): UnsafeBinding => ({ name, type, plugin: { package: PLUGIN, name: type }, options });
const r2ServiceWorker = (service: Record<string, string>): Worker => ({
  scriptPath: "scripts/bench/r2-service/r2-service-worker.js",
  // Each bucket bound under its own name (the read-back routes), and a socket for each onto its simulator.
  r2Buckets: Object.fromEntries(Object.keys(service).map((bucket) => [bucket, bucket])),
  unsafeBindings: Object.entries(service).map(([bucket, address], i) => plugin(`R2_SOCKET_${i}`, "bench-r2-socket", { address, bucket })),
});
/** The Worker's R2 bindings made R2Buckets of the R2 service (same names, same buckets): nothing else changes. */
const servedElsewhere = (w: Worker, service: Record<string, string>): Worker => {
  const { r2Buckets, ...rest } = w;
  const bindings = Object.entries(r2Buckets ?? {}).map(([name, bucket]) => {
    const address = service[bucket];
    if (!address) throw new Error(`the R2 service serves no bucket ${bucket}`);
    return plugin(name, "bench-r2-binding", { address });
  });
  return { ...rest, unsafeBindings: [...(rest.unsafeBindings ?? []), ...bindings] };
};
const byRole = (): Worker => {
  if (role === "r2") {
    if (!r2Service) throw new Error("BENCH_WORKER=r2 needs BENCH_R2_SERVICE");
    return r2ServiceWorker(r2Service);
  }
  return role === "floor"
    ? {
        scriptPath: "scripts/bench/floor/floor-worker.js",
        durableObjects: { FLOOR: { className: "FloorObject", useSQLite: true } },
        r2Buckets: { PAYLOADS: "floor-payloads" },
      }
    : {
        // BENCH_DIST: another build's folder, to measure two trees one after the other from built copies.
        scriptPath: `${process.env["BENCH_DIST"] ?? "dist"}/index.js`,
        durableObjects: {
          SESSIONS: { className: "SessionObject", useSQLite: true },
          MINERS: { className: "MinerRegistry", useSQLite: true },
          LEDGERS: { className: "LedgerObject", useSQLite: true },
          QUOTAS: { className: "QuotaObject", useSQLite: true },
          A2A_TASKS: { className: "A2ATaskStoreObject", useSQLite: true },
        },
        r2Buckets: { PAYLOADS: "cortensor-payloads" },
        // [assets] of wrangler.toml: static/ (scripts/build-static.ts), every request to the Worker first.
        assets: { directory: "static", binding: "ASSETS", routerConfig: { has_user_worker: true, invoke_user_worker_ahead_of_assets: true } },
      };
};
const worker = role !== "r2" && r2Service ? servedElsewhere(byRole(), r2Service) : byRole();
const mf = new Miniflare(
  convertV4MiniflareOptions({
    host: "127.0.0.1",
    port,
    modules: true,
    compatibilityDate: "2026-11-01",
    bindings: vars,
    ...worker,
    resourcePersistencePath: persistTo,
    ...(inspectorPort ? { inspectorPort, inspectorHost: "127.0.0.1" } : {}),
  }),
);

let ending = false;
async function end() {
  if (ending) return;
  ending = true;
  await mf.dispose().catch(() => {});
  process.exit(0);
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void end());

const url = await mf.ready;
console.log(`ready ${url.origin}`);
