import { Hono } from "hono";
import type { Env } from "../env";
import type { AppEnv } from "../http/app-env";

/**
 * The operator console (console/, built by scripts/build-static.ts into
 * static/console/): the page at /console, its hashed files under
 * /console/assets/, read from the Workers static assets binding. The page
 * is a public shell; everything it shows comes from the API, under the
 * admin key the operator types in.
 */
export const consoleRoutes = new Hono<AppEnv>();

/** Vite names every built file by its content's hash: a browser may keep it for good. */
const IMMUTABLE = "public, max-age=31536000, immutable";

async function fromAssets(env: Env, url: URL, path: string, cacheControl: string): Promise<Response> {
  const asset = await env.ASSETS.fetch(new URL(path, url));
  if (!asset.ok) return Response.json({ error: { code: "not_found", message: `no console file at ${url.pathname}` } }, { status: 404 });
  const response = new Response(asset.body, asset);
  response.headers.set("Cache-Control", cacheControl);
  response.headers.set("X-Content-Type-Options", "nosniff");
  return response;
}

// The page itself is read again each time, so that a deployment's new files are picked up at once.
consoleRoutes.get("/console", (c) => fromAssets(c.env, new URL(c.req.url), "/console/", "no-cache"));
consoleRoutes.get("/console/", (c) => fromAssets(c.env, new URL(c.req.url), "/console/", "no-cache"));
consoleRoutes.get("/console/assets/:file{[A-Za-z0-9._-]+}", (c) => fromAssets(c.env, new URL(c.req.url), `/console/assets/${c.req.param("file")}`, IMMUTABLE));
