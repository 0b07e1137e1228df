import { createMiddleware } from "hono/factory";
import { bodyLimit } from "hono/body-limit";
import { minerAdminRoutes } from "./admin/miner-admin-routes";
import { sessionAdminRoutes } from "./admin/session-admin-routes";
import { trafficAdminRoutes } from "./admin/traffic-admin-routes";
import { ledgerAdminRoutes } from "./admin/ledger-admin-routes";
import { metricsAdminRoutes } from "./admin/metrics-admin-routes";
import { activityAdminRoutes } from "./admin/activity-admin-routes";
import { consoleRoutes } from "./console/console-routes";
import { loadConfig } from "../domain/config/config";
import { applyRunTimeSettings } from "./config/run-time-settings";
import type { AppEnv } from "./http/app-env";
import type { ErrorHandler } from "hono";
import { ApiError } from "../domain/errors";
import { toErrorResponse } from "./http/surface-error";
import { jsonRpcErrorHandler } from "./http/json-rpc-errors";
import { envelopeErrorHandler, openAiErrorHandler } from "./gateway/envelope";
import { openApiApp } from "./http/openapi";
import { completionRoutes } from "./router/completion-routes";
import { metaRoutes } from "./router/meta-routes";
import { recordServedPaths } from "./router/api-versions";
import { ROUTER_VERSION } from "../domain/version";
import { minerRoutes } from "./router/miner-routes";
import { minerJoinRoutes } from "./router/miner-join-routes";
import { sessionRoutes } from "./router/session-routes";
import { receiptRoutes } from "./router/receipt-routes";
import { offchainRoutes } from "./router/offchain-routes";
import { payloadKeyRoutes } from "./router/payload-key-routes";
import { factcheckRoutes, workRoutes } from "./router/work-routes";
import { sessionPoolRoutes } from "./router/session-pool-routes";
import { trialRoutes } from "./router/trial-routes";
import { a2aRoutes } from "./router/a2a-routes";
import { mcpRoutes } from "./router/mcp-routes";
import { x402Routes } from "./router/x402-routes";
import { gatewayAdminRoutes } from "./gateway/admin-routes";
import { gatewayRoutes, openAiCompatRoutes } from "./gateway/gateway-routes";
import { chainRoutes } from "./router/chain-routes";
import { chainAdminRoutes } from "./admin/chain-admin-routes";
import { neuroShardErrorHandler } from "./neuroshard/errors";
import { neuroShardRoutes } from "./neuroshard/node-routes";
import { docsPage } from "./pages/docs-page";
import { htmlSecurityHeaders } from "./pages/security-headers";
import { serveStaticAssets } from "./pages/static-assets";

/** A configuration that does not parse, or a production one with dev credentials or missing secrets, answers nothing but this. */
const refuseMisconfigured = createMiddleware<AppEnv>(async function refuseMisconfigured(c, next) {
  const { problems } = loadConfig(c.env);
  if (problems.length > 0) {
    throw new ApiError(503, "router_misconfigured", "this router's configuration is invalid or unsafe for production and it refuses to serve", {
      problems,
    });
  }
  await next();
});

/** Hono's body limit for each configured size, built once (a request built one afresh). */
const bodyLimits = new Map<number, ReturnType<typeof bodyLimit>>();

function bodyLimitOf(maxSize: number) {
  let limit = bodyLimits.get(maxSize);
  if (!limit) {
    limit = bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError(413, "payload_too_large", `request body exceeds ${maxSize} bytes`);
      },
    });
    // A size per configuration the isolate served: a handful at most; bounded all the same.
    if (bodyLimits.size >= 16) bodyLimits.clear();
    bodyLimits.set(maxSize, limit);
  }
  return limit;
}

const limitBody = createMiddleware<AppEnv>(function limitBody(c, next) {
  return bodyLimitOf(loadConfig(c.env).maxBodyBytes)(c, next);
});

const routerErrorHandler: ErrorHandler<AppEnv> = (err) => toErrorResponse(err);

/**
 * Each surface renders its errors in its own shape, through the `onError`
 * of its sub-app. Errors raised before a request reaches a sub-app (the
 * configuration check, the body limit) are rendered here by the handler of
 * the surface the path belongs to.
 */
function surfaceErrorHandler(path: string): ErrorHandler<AppEnv> {
  if (path === "/v1/completions") return envelopeErrorHandler;
  if (path.startsWith("/openai/") || path === "/v1/chat/completions" || path === "/v1/models") return openAiErrorHandler;
  if (path === "/mcp" || path === "/api/v1/a2a") return jsonRpcErrorHandler;
  if (path.startsWith("/neuroshard/")) return neuroShardErrorHandler;
  return routerErrorHandler;
}

export function createApp() {
  const app = openApiApp();
  app.onError((err, c) => surfaceErrorHandler(c.req.path)(err, c));
  app.notFound((c) => surfaceErrorHandler(c.req.path)(new ApiError(404, "not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), c));
  app.use("*", htmlSecurityHeaders);
  app.use("*", applyRunTimeSettings);
  app.use("*", refuseMisconfigured);
  app.use("/api/*", limitBody);
  app.use("/v1/*", limitBody);
  app.use("/openai/*", limitBody);
  app.use("/mcp", limitBody);
  app.use("/neuroshard/*", limitBody);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "Router API key (admin routes: the admin key)",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "customerKey", {
    type: "http",
    scheme: "bearer",
    description: "Gateway customer API key (csk_…)",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "assignmentToken", {
    type: "http",
    scheme: "bearer",
    description: "The token a miner receives with an assignment (off-chain payload routes)",
  });
  app.route("/", metaRoutes);
  app.route("/", minerRoutes);
  app.route("/", minerJoinRoutes);
  app.route("/", sessionRoutes);
  app.route("/", receiptRoutes);
  app.route("/", completionRoutes);
  app.route("/", offchainRoutes);
  app.route("/", payloadKeyRoutes);
  app.route("/", workRoutes);
  app.route("/", factcheckRoutes);
  app.route("/", sessionPoolRoutes);
  app.route("/", trialRoutes);
  app.route("/", a2aRoutes);
  app.route("/", mcpRoutes);
  app.route("/", x402Routes);
  app.route("/", gatewayRoutes);
  app.route("/", openAiCompatRoutes);
  app.route("/", gatewayAdminRoutes);
  app.route("/", sessionAdminRoutes);
  app.route("/", minerAdminRoutes);
  app.route("/", trafficAdminRoutes);
  app.route("/", ledgerAdminRoutes);
  app.route("/", metricsAdminRoutes);
  app.route("/", activityAdminRoutes);
  app.route("/", chainRoutes);
  app.route("/", chainAdminRoutes);
  app.route("/", neuroShardRoutes);
  recordServedPaths(app.routes.map((r) => r.path));

  app.doc31("/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: {
      title: "Cortensor edge router",
      version: ROUTER_VERSION,
      description: "The Cortensor router API (v1, v2, v3), the hosted gateway (/v1) and its OpenAI-compatible surface",
    },
    servers: [{ url: new URL(c.req.url).origin }],
  }));
  app.get("/docs", (c) => c.html(docsPage()));
  app.get("/docs/*", serveStaticAssets);
  app.route("/", consoleRoutes);
  return app;
}
