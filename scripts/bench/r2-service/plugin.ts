/**
 * Two Miniflare plugins (loaded through Miniflare's `unsafeBindings`, which
 * import a plugin module by path) that move R2 out of the measured workerd,
 * so that its CPU counts an R2 call as on Cloudflare (the binding serialising
 * the request and sending it) and not the R2 simulator's storage work:
 *
 *  - "bench-r2-binding", in the measured Miniflare: the binding is still
 *    workerd's own R2Bucket (the Worker's code is unchanged), but its
 *    designator is a workerd `external` service, the R2 service's socket,
 *    instead of Miniflare's in-process simulator. workerd's R2 client sends
 *    each call there over HTTP, as it would to Miniflare's local service;
 *  - "bench-r2-socket", in the R2 service (runtimes.ts startR2Service, its own
 *    workerd): a socket whose service is Miniflare's R2 simulator for one
 *    bucket (the entry Worker in front of its R2BucketObject Durable Object,
 *    SQLite and blob files), the one a local R2 binding reaches.
 *
 * Miniflare's own cross-process ways were measured and cost the Worker's
 * process more per put than this (docs/architecture.md, "Measuring"):
 * remote bindings (a proxy client Worker in its process) and shared storage
 * (a dev-registry proxy Worker calling over workerd's debug port).
 */

/** A binding as Miniflare hands it to a plugin: `unsafeBindings` entries carry our options. */
type UnsafeBinding = { dev?: { plugin?: { name?: string }; options?: Record<string, unknown> } };
type WorkerOptions = { config: { env?: Record<string, UnsafeBinding> } };

/** Miniflare's name for its local R2 entry service (the simulator a local R2 binding calls). */
const R2_ENTRY_SERVICE = "r2:bucket:entry";
/** The entry Worker's prop naming the bucket (Miniflare's SharedBindings.TEXT_NAMESPACE). */
const BUCKET_PROP = "MINIFLARE_NAMESPACE";

const bindingsOf = (options: WorkerOptions, plugin: string) =>
  Object.entries(options.config.env ?? {}).flatMap(([name, binding]) => (binding.dev?.plugin?.name === plugin ? [{ name, options: binding.dev.options ?? {} }] : []));
const option = (options: Record<string, unknown>, key: string): string => {
  const value = options[key];
  if (typeof value !== "string" || value === "") throw new Error(`bench R2 plugin: option ${key} must be a non-empty string`);
  return value;
};

export const plugins = {
  "bench-r2-binding": {
    getBindings(options: WorkerOptions) {
      return bindingsOf(options, "bench-r2-binding").map((b) => ({ name: b.name, r2Bucket: { name: `bench-r2-binding:${b.name}` } }));
    },
    getNodeBindings() {
      return {};
    },
    getServices({ options }: { options: WorkerOptions }) {
      return bindingsOf(options, "bench-r2-binding").map((b) => ({
        name: `bench-r2-binding:${b.name}`,
        external: { address: option(b.options, "address"), http: {} },
      }));
    },
  },
  "bench-r2-socket": {
    getBindings() {
      return [];
    },
    getNodeBindings() {
      return {};
    },
    getServices({ options }: { options: WorkerOptions }) {
      const sockets = bindingsOf(options, "bench-r2-socket").map((b) => ({
        name: `bench-r2-socket:${b.name}`,
        address: option(b.options, "address"),
        http: {},
        service: { name: R2_ENTRY_SERVICE, props: { json: JSON.stringify({ [BUCKET_PROP]: option(b.options, "bucket") }) } },
      }));
      return { services: [], extensions: [], sockets };
    },
  },
};
