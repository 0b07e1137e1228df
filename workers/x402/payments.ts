import { HTTPFacilitatorClient, type RoutesConfig } from "@x402/core/server";
import { ExactEvmScheme } from "@x402/evm/exact/server";
import { paymentMiddleware, x402ResourceServer } from "@x402/hono";
import type { MiddlewareHandler } from "hono";
import type { RouterConfig } from "../../domain/config/config";
import type { Env } from "../env";
import { ApiError } from "../../domain/errors";
import { registerPaymentClaims } from "./payment-claims";

const FAMILIES = ["ping", "completions", "delegate", "validate", "factcheck"] as const;
export type X402Family = (typeof FAMILIES)[number];

const isCaip2 = (network: string): network is `${string}:${string}` => /^[a-z0-9-]+:[A-Za-z0-9-]+$/.test(network);

/** The paid routes, by family. */
export const X402_ROUTES: Record<X402Family, string[]> = {
  ping: ["GET /api/v1/x402/ping"],
  completions: ["POST /api/v1/x402/completions", "POST /api/v1/x402/completions/*"],
  delegate: ["POST /api/v1/x402/delegate", "POST /api/v2/x402/delegate"],
  validate: ["POST /api/v1/x402/validate", "POST /api/v2/x402/validate"],
  factcheck: ["POST /api/v1/x402/factcheck"],
};

export function x402Enabled(config: RouterConfig, family: X402Family): boolean {
  return family === "ping" ? config.x402.routes.size > 0 : config.x402.routes.has(family) || config.x402.routes.has("all");
}

/**
 * The @x402/hono payment middleware for this configuration: without a
 * payment a paid route answers 402 with its requirements (price, network,
 * asset, pay-to); a payment is verified by the configured facilitator before
 * the work and settled only when the work succeeded; each authorization is
 * used once (see `registerPaymentClaims` for who pays for what).
 */
export function x402Middleware(env: Env, config: RouterConfig): MiddlewareHandler {
  const { facilitatorUrl, payTo, network } = config.x402;
  if (!facilitatorUrl || !payTo || !isCaip2(network)) {
    throw new ApiError(503, "router_misconfigured", "x402 routes are enabled without X402_FACILITATOR_URL, X402_PAY_TO or a CAIP-2 X402_NETWORK");
  }
  const facilitator = new HTTPFacilitatorClient({ url: facilitatorUrl });
  const server = new x402ResourceServer(facilitator).register(network, new ExactEvmScheme());
  registerPaymentClaims(server, env, config.x402.network);
  const routes: RoutesConfig = {};
  for (const family of FAMILIES) {
    if (!x402Enabled(config, family)) continue;
    for (const route of X402_ROUTES[family]) {
      routes[route] = {
        accepts: { scheme: "exact", price: config.x402.prices[family], network, payTo, maxTimeoutSeconds: 600 },
        description: `Cortensor router: ${family}, paid per request`,
        mimeType: "application/json",
      };
    }
  }
  return paymentMiddleware(routes, server);
}
