import { EVM_NETWORK_CHAIN_ID_MAP } from "@x402/evm/v1";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import type { AppEnv } from "../http/app-env";

/** x402 v1 network names ("base-sepolia") ⇄ the CAIP-2 ids of v2 ("eip155:84532"). */
const V1_TO_CAIP2 = Object.fromEntries(Object.entries(EVM_NETWORK_CHAIN_ID_MAP).map(([name, id]) => [name, `eip155:${id}`]));
const CAIP2_TO_V1 = Object.fromEntries(Object.entries(V1_TO_CAIP2).map(([name, caip]) => [caip, name]));

/** The v2 `PAYMENT-REQUIRED` header's content, as far as the v1 body needs it. */
const V2RequiredSchema = z.object({
  error: z.string().optional(),
  resource: z.object({ url: z.string(), description: z.string().optional(), mimeType: z.string().optional() }),
  accepts: z.array(
    z.object({
      scheme: z.string(),
      network: z.string(),
      amount: z.string(),
      asset: z.string(),
      payTo: z.string(),
      maxTimeoutSeconds: z.number(),
      extra: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
});
const PaymentSchema = z.record(z.string(), z.unknown());

/** A base64 JSON header; anything else reads as undefined. */
function headerJson<T>(text: string, schema: z.ZodType<T>): T | undefined {
  try {
    return schema.safeParse(JSON.parse(atob(text))).data;
  } catch {
    return undefined;
  }
}

/**
 * Older x402 clients (protocol version 1) read the requirements from the
 * 402 body and pay with an `X-PAYMENT` header. The payment middleware speaks
 * version 2 (headers `PAYMENT-REQUIRED`, `PAYMENT-SIGNATURE`,
 * `PAYMENT-RESPONSE`), so this translates at the edge: every 402 also
 * carries the v1 body, an `X-PAYMENT` becomes the `PAYMENT-SIGNATURE` the
 * middleware reads (same signed authorization), and a settlement is echoed
 * in `X-PAYMENT-RESPONSE` too.
 */
export const x402V1Compat = createMiddleware<AppEnv>(async function x402V1Compat(c, next) {
  const legacy = c.req.header("X-PAYMENT");
  if (legacy && !c.req.header("PAYMENT-SIGNATURE")) {
    const payment = headerJson(legacy, PaymentSchema);
    if (payment) {
      const translated =
        payment["x402Version"] === 1
          ? { x402Version: 1, accepted: { scheme: payment["scheme"], network: V1_TO_CAIP2[String(payment["network"])] ?? payment["network"] }, payload: payment["payload"] }
          : payment;
      const headers = new Headers(c.req.raw.headers);
      headers.set("PAYMENT-SIGNATURE", btoa(JSON.stringify(translated)));
      c.req.raw = new Request(c.req.raw, { headers });
    }
  }
  await next();
  const required = c.res.headers.get("PAYMENT-REQUIRED");
  const v2 = c.res.status === 402 && required ? headerJson(required, V2RequiredSchema) : undefined;
  if (v2) {
    const body = {
      x402Version: 1,
      error: v2.error ?? "X-PAYMENT header is required",
      accepts: v2.accepts.map((r) => ({
        scheme: r.scheme,
        network: CAIP2_TO_V1[r.network] ?? r.network,
        maxAmountRequired: r.amount,
        resource: v2.resource.url,
        description: v2.resource.description ?? "",
        mimeType: v2.resource.mimeType ?? "application/json",
        payTo: r.payTo,
        maxTimeoutSeconds: r.maxTimeoutSeconds,
        asset: r.asset,
        ...(r.extra ? { extra: r.extra } : {}),
      })),
    };
    const headers = new Headers(c.res.headers);
    headers.set("content-type", "application/json");
    c.res = new Response(JSON.stringify(body), { status: 402, headers });
    return;
  }
  const settled = c.res.headers.get("PAYMENT-RESPONSE");
  if (settled && legacy) {
    const res = c.res;
    c.res = new Response(res.body, res);
    c.res.headers.set("X-PAYMENT-RESPONSE", settled);
  }
});
