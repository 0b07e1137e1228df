import { HTTPFacilitatorClient } from "@x402/core/server";
import { ExactEvmScheme } from "@x402/evm/exact/server";
import { paymentMiddleware, x402ResourceServer } from "@x402/hono";
import type { MiddlewareHandler } from "hono";
import type { RouterConfig } from "../config/config";
import type { Env } from "../env";
import { quotaStub } from "../stubs";

export type X402Family = "ping" | "completions" | "delegate" | "validate" | "factcheck";

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
 * the work and settled only when the work succeeded. An authorization's
 * nonce is accepted once per payer (a Quota object keeps it), so a replayed
 * payment gets 402.
 */
export function x402Middleware(env: Env, config: RouterConfig): MiddlewareHandler {
  const facilitator = new HTTPFacilitatorClient({ url: config.x402.facilitatorUrl! });
  const server = new x402ResourceServer(facilitator).register(config.x402.network as `${string}:${string}`, new ExactEvmScheme());
  server.onBeforeVerify(async ({ paymentPayload }) => {
    const authorization = (paymentPayload.payload as { authorization?: { from?: string; nonce?: string } }).authorization;
    if (!authorization?.from || !authorization.nonce) return { abort: true, reason: "invalid_payload", message: "the payment carries no authorization nonce" };
    const first = await quotaStub(env, `payer:${authorization.from.toLowerCase()}`).claimOnce(`${config.x402.network}:${authorization.nonce}`);
    return first ? undefined : { abort: true, reason: "payment_replayed", message: "this payment authorization was already used" };
  });
  const routes: Record<string, unknown> = {};
  for (const family of Object.keys(X402_ROUTES) as X402Family[]) {
    if (!x402Enabled(config, family)) continue;
    for (const route of X402_ROUTES[family]) {
      routes[route] = {
        accepts: { scheme: "exact", price: config.x402.prices[family], network: config.x402.network, payTo: config.x402.payTo!, maxTimeoutSeconds: 600 },
        description: `Cortensor router: ${family}, paid per request`,
        mimeType: "application/json",
      };
    }
  }
  return paymentMiddleware(routes as Parameters<typeof paymentMiddleware>[0], server);
}
