/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import { call } from "./helpers";

/**
 * What the docs and the code's comments point a reader at must exist: every
 * router route they name is one the Worker serves (its OpenAPI document,
 * plus the few routes outside it), and every repository file they name is
 * in the repository. A route or a file that moved leaves a stale pointer
 * behind; this finds it.
 */

const sources = {
  ...import.meta.glob(["../*.md", "../docs/**/*.md", "../tools/**/*.md"], { query: "?raw", import: "default", eager: true }),
  ...import.meta.glob(
    ["../workers/**/*.ts", "../durable-objects/**/*.ts", "../domain/**/*.ts", "../tools/**/*.ts", "../scripts/**/*.ts", "../console/src/**/*.{ts,tsx}", "../miner-node/**/*.ts"],
    {
      query: "?raw",
      import: "default",
      eager: true,
    },
  ),
} as Record<string, string>;
/** Every file of the repository a reference may name (the keys only: nothing is read). */
const files = new Set(
  Object.keys(
    import.meta.glob(["../**/*.*", "!../node_modules/**", "!../.wrangler/**", "!../dist/**", "!../static/**", "!../test-results/**"], {
      query: "?url",
      import: "default",
      eager: false,
    }),
  ).map((k) => k.slice(3)),
);

/** Routes the Worker serves outside its OpenAPI document. */
const UNDOCUMENTED_ROUTES = ["/console", "/docs", "/openapi.json", "/mcp", "/openai/v1/chat/completions", "/openai/v1/completions", "/openai/v1/models"];
/** Paths of other servers' APIs the docs describe (a miner's, a NeuroShard node's), not the router's. */
const FOREIGN_PATHS = ["/v1/embeddings", "/api/v1/health", "/api/v1/inference", "/api/v1/layers", "/api/v1/status"];

const ROUTE = /(?:https?:\/\/[^/\s"'`]+|[`"'(\s])(\/(?:api\/v[123]|v1|neuroshard|openai\/v1|\.well-known)(?:\/[A-Za-z0-9_.\-{}:[\]$]+)*)/g;
const FILE = /(?<![\w/.@-])((?:workers|durable-objects|domain|tools|scripts|docs|console)\/[A-Za-z0-9_./-]*\.(?:ts|tsx|md|js|json|toml|sol))\b/g;

/** A route as written, with its parameters, optional parts and example ids made alike. */
const shape = (path: string) =>
  path
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\$\{[^}]*\}|\{[^}]*\}|:[A-Za-z]+/g, "{}")
    .replace(/\/\d+(?=\/|$)/g, "/{}")
    .replace(/[/.:,]+$/, "");

describe("references in the docs and comments", () => {
  it("name only routes the Worker serves", async () => {
    const doc = (await (await call("/openapi.json", { key: null })).json()) as { paths: Record<string, unknown> };
    const served = new Set([...Object.keys(doc.paths), ...UNDOCUMENTED_ROUTES].map(shape));
    const stale: string[] = [];
    for (const [file, text] of Object.entries(sources)) {
      for (const m of text.matchAll(ROUTE)) {
        const path = shape(m[1] ?? "");
        // A template's variable part (`${query}`), or a family named by its prefix (`/api/v1/trial/*`).
        if (path.includes("${") || served.has(path) || FOREIGN_PATHS.includes(path) || [...served].some((s) => s.startsWith(`${path}/`))) continue;
        stale.push(`${file.slice(3)}: ${m[1]}`);
      }
    }
    expect(stale).toEqual([]);
  });

  it("name only files that exist", () => {
    const stale: string[] = [];
    for (const [file, text] of Object.entries(sources)) {
      const dir = file.slice(3).split("/").slice(0, -1).join("/");
      for (const m of text.matchAll(FILE)) {
        const named = m[1] ?? "";
        // Named from the repository's root, from the naming file's folder, or (in workers/) from workers/.
        if ([named, `${dir}/${named}`, `workers/${named}`].some((p) => files.has(p))) continue;
        stale.push(`${file.slice(3)}: ${named}`);
      }
    }
    expect(stale).toEqual([]);
  });
});
