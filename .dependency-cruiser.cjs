/**
 * The layer check (`npm run layers`, run by .ci/run). Three layers, imports
 * pointing down only, type-only imports included (the swc parser keeps
 * `import type`, which the TypeScript compiler would drop):
 *
 *   workers/          the Worker's HTTP surfaces: routes, the gateway, pages
 *   durable-objects/  the Durable Objects and the clients of their stubs
 *   domain/           plain domain code: no HTTP framework, no object class
 *
 * and no cycle anywhere, inside a layer or across. docs/architecture.md
 * says what each layer holds.
 */
/** Hono's pure helpers, which are no HTTP framework: base64, status code types, JWT sign and verify. */
const HONO_HELPERS = "(^|/)node_modules/hono/dist/(types/|cjs/)?(utils/|middleware/jwt/)";

module.exports = {
  forbidden: [
    {
      name: "no-cycle",
      comment: "A module may not import itself back through any chain of imports, type-only ones included.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "domain-imports-only-domain",
      comment: "domain/ is the bottom layer: it may not import a Durable Object, the Worker's HTTP layer, the tools or the tests.",
      severity: "error",
      from: { path: "^domain/" },
      to: { path: "^(durable-objects|workers|tools|scripts|test|console|miner-node)/" },
    },
    {
      name: "domain-has-no-http-framework",
      comment:
        "domain/ is plain code: Hono (the app, contexts, middleware, HTTPException) belongs to workers/; only its pure helpers (base64, status code types, JWT signing) may be used.",
      severity: "error",
      from: { path: "^domain/" },
      to: { path: "(^|/)node_modules/hono/", pathNot: HONO_HELPERS },
    },
    {
      name: "objects-import-no-worker",
      comment: "durable-objects/ may import domain/ only: never a route family, the gateway or any other part of workers/.",
      severity: "error",
      from: { path: "^durable-objects/" },
      to: { path: "^(workers|tools|scripts|test|console|miner-node)/" },
    },
    {
      name: "objects-have-no-http-framework",
      comment: "An object is called through RPC; Hono belongs to workers/ (its pure helpers excepted).",
      severity: "error",
      from: { path: "^durable-objects/" },
      to: { path: "(^|/)node_modules/hono/", pathNot: HONO_HELPERS },
    },
    {
      name: "miner-node-imports-only-domain",
      comment: "The miner node is a program of its own (an operator runs it on a GPU server): it shares the domain's texts and schemas, never the router's objects or routes.",
      severity: "error",
      from: { path: "^miner-node/" },
      to: { path: "^(durable-objects|workers|tools|scripts|test|console)/" },
    },
    {
      name: "unresolvable",
      comment: "An import that resolves to nothing is a broken path, not a dependency to ignore.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true, pathNot: "^cloudflare:" },
    },
  ],
  options: {
    // TypeScript 7 has no JavaScript API for dependency-cruiser to parse
    // with; swc parses TypeScript, type-only imports included.
    parser: "swc",
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^dist/" },
    enhancedResolveOptions: {
      extensions: [".ts", ".js", ".json"],
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types"],
    },
  },
};
