import { defineConfig } from "vite";

/**
 * The operator console: a single page built into static/console/ (by
 * scripts/build-static.ts, wrangler's [build] command), which the
 * Worker serves at /console (wrangler.toml [assets], workers/console/).
 * Hashed file names let the Worker cache them for good; no inline script
 * or style, so the page runs under a strict Content-Security-Policy.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: "/console/",
  logLevel: "warn",
  publicDir: false,
  // The same build whoever runs it: under vitest (NODE_ENV=test) Vite would otherwise emit development JSX, with each element's source file path.
  mode: "production",
  oxc: { jsx: { runtime: "automatic", importSource: "hono/jsx/dom", development: false } },
  build: {
    // Written by scripts/build-static.ts (build.write is off there); this is where `vite build` alone would put them.
    outDir: "../static/console",
    emptyOutDir: false,
    // The polyfill would be the page's only inline code; every browser the console targets has modulepreload.
    modulePreload: { polyfill: false },
    // A stylesheet inlined as a data: URL would need style-src data: under the CSP.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    target: "es2022",
  },
});
