import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../http/app-env";

/**
 * Answers a GET from the static assets (static/, built by
 * scripts/build-static.ts) at the request's path; a path with no asset gets the
 * router's own 404. Mounted on the paths that hold assets (/docs/*): with
 * `run_worker_first`, the Worker sees every request and decides.
 */
export const serveStaticAssets = createMiddleware<AppEnv>(async function serveStaticAssets(c, next) {
  const res = await c.env.ASSETS.fetch(c.req.raw);
  if (res.status === 404) return next();
  const headers = new Headers(res.headers);
  headers.set("x-content-type-options", "nosniff");
  return new Response(res.body, { status: res.status, headers });
});
