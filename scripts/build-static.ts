/**
 * Writes static/, the Worker's static assets folder ([assets] in wrangler.toml):
 * the hand-written browser files of web/, the Swagger UI of /docs copied
 * from the swagger-ui-dist package (the version package-lock.json pins), and
 * the operator console built by Vite (console/, scripts/console/build.ts), so
 * that no page loads anything from another origin. static/ is generated
 * (git-ignored): wrangler runs this as its [build] command before `wrangler
 * dev` and `wrangler deploy`, and vitest.config.ts runs it before the tests.
 *
 * Several of those may run at once (a test run's workerd serves static/ while
 * the browser tests' `wrangler dev` runs this again), so a file is replaced
 * only when its content changed, by a rename: a reader never sees half a file.
 *
 *   node scripts/build-static.ts
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { consoleFiles } from "./console/build.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const STATIC_DIR = join(ROOT, "static");
const WEB_DIR = join(ROOT, "web");
/** Swagger UI's files that /docs uses, served at /docs/swagger-ui/<name>. */
const SWAGGER_UI_FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"];

function put(source: string, target: string): void {
  write(readFileSync(source), target);
}

function write(data: Uint8Array | string, target: string): void {
  const content = Buffer.from(data);
  try {
    if (readFileSync(target).equals(content)) return;
  } catch {
    // not there yet
  }
  mkdirSync(dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, target);
}

export async function buildStatic(): Promise<void> {
  for (const entry of readdirSync(WEB_DIR, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const source = join(entry.parentPath, entry.name);
    put(source, join(STATIC_DIR, relative(WEB_DIR, source)));
  }
  const swaggerUi = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  for (const name of SWAGGER_UI_FILES) put(join(swaggerUi, name), join(STATIC_DIR, "docs", "swagger-ui", name));
  // Vite names the console's files by their content's hash: a changed build adds files, it never rewrites one in use.
  const built = await consoleFiles();
  for (const file of built) write(file.content, join(STATIC_DIR, "console", file.name));
  // Earlier builds' files would otherwise pile up and be deployed with the rest. The build is the same
  // whoever runs it (console/vite.config.ts), so a concurrent build never removes what this one serves.
  const kept = new Set(built.map((f) => join(STATIC_DIR, "console", f.name)));
  const assets = join(STATIC_DIR, "console", "assets");
  for (const name of readdirSync(assets)) {
    // Another build's file being written (put's temporary name) is that build's to finish.
    if (!kept.has(join(assets, name)) && !name.endsWith(".tmp")) rmSync(join(assets, name), { force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildStatic();
