import { HTTPFacilitatorClient, type RoutesConfig } from "@x402/core/server";
import { ExactEvmScheme } from "@x402/evm/exact/server";
import { paymentMiddleware, x402ResourceServer } from "@x402/hono";
import type { MiddlewareHandler } from "hono";
import type { RouterConfig } from "../config/config";
import { z } from "zod";
import type { Env } from "../env";
import { ApiError } from "../http/errors";
import { quotaStub } from "../stubs";

const FAMILIES = ["ping", "completions", "delegate", "validate", "factcheck"] as const;
export type X402Family = (typeof FAMILIES)[number];

/** The EIP-3009 authorization an exact-scheme EVM payment carries: who pays, and the nonce that makes it single-use. */
const AuthorizationSchema = z.object({ authorization: z.object({ from: z.string().min(1), nonce: z.string().min(1) }) });

/** Who pays and with which nonce, as a payment payload says; to be trusted only once the facilitator verified its signature. */
export function paymentAuthorization(payload: unknown): { from: string; nonce: string } | undefined {
  const authorization = AuthorizationSchema.safeParse(payload).data?.authorization;
  return authorization && { from: authorization.from.toLowerCase(), nonce: authorization.nonce };
}

/** Whether the paid handler answered from an earlier task (its `x-idempotent-replay` header), read from the settlement's transport context. */
const ReplayedResponse = z.object({ responseHeaders: z.record(z.string(), z.string()) });
const answeredFromReplay = (transportContext: unknown) => ReplayedResponse.safeParse(transportContext).data?.responseHeaders["x-idempotent-replay"] === "true";
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
 * the work and settled only when fresh work succeeded.
 *
 * An authorization's nonce is claimed once per payer (a Quota object, one
 * atomic claim), and only after the facilitator verified the signature, so
 * a forged payload naming someone else's payer and nonce claims nothing. A
 * replayed payment gets 402. A request refused before any work (a 4xx)
 * gives its claim back, so the same payment pays for the corrected request;
 * an answer replayed from an earlier task of the same payer is not settled
 * and gives its claim back too. Work that failed (5xx) is never settled,
 * and its authorization stays claimed.
 */
export function x402Middleware(env: Env, config: RouterConfig): MiddlewareHandler {
  const { facilitatorUrl, payTo, network } = config.x402;
  if (!facilitatorUrl || !payTo || !isCaip2(network)) {
    throw new ApiError(503, "router_misconfigured", "x402 routes are enabled without X402_FACILITATOR_URL, X402_PAY_TO or a CAIP-2 X402_NETWORK");
  }
  const facilitator = new HTTPFacilitatorClient({ url: facilitatorUrl });
  const server = new x402ResourceServer(facilitator).register(network, new ExactEvmScheme());
  const claim = (authorization: { from: string; nonce: string }) => ({
    quota: quotaStub(env, `payer:${authorization.from}`),
    token: `${config.x402.network}:${authorization.nonce}`,
  });
  const release = async (payload: unknown) => {
    const authorization = paymentAuthorization(payload);
    if (!authorization) return;
    const { quota, token } = claim(authorization);
    await quota.release(token);
  };
  server.onAfterVerify(async ({ paymentPayload, result }) => {
    if (!result.isValid) return undefined;
    const authorization = paymentAuthorization(paymentPayload.payload);
    if (!authorization) return { abort: true, reason: "invalid_payload", message: "the payment carries no authorization nonce" };
    try {
      const { quota, token } = claim(authorization);
      return (await quota.claimOnce(token)) ? undefined : { abort: true, reason: "payment_replayed", message: "this payment authorization was already used" };
    } catch (err) {
      // The library logs and ignores a hook that throws: refuse instead, never accept a payment unclaimed.
      console.error("claiming a payment nonce failed", err);
      return { abort: true, reason: "payment_check_unavailable", message: "the payment could not be checked; try again" };
    }
  });
  server.onVerifiedPaymentCanceled(async ({ paymentPayload, reason, responseStatus }) => {
    // Refused before any work (4xx): nothing was done or settled, the payment stays usable.
    if (reason === "handler_failed" && responseStatus !== undefined && responseStatus >= 400 && responseStatus < 500) await release(paymentPayload.payload);
  });
  server.onBeforeSettle(async ({ paymentPayload, requirements, transportContext }) => {
    if (!answeredFromReplay(transportContext)) return undefined;
    // The payer's earlier task answered: already paid for, so nothing is settled and the payment stays usable.
    await release(paymentPayload.payload);
    const payer = paymentAuthorization(paymentPayload.payload)?.from;
    return { skip: true, result: { success: true, transaction: "", network: requirements.network, ...(payer ? { payer } : {}) } };
  });
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
