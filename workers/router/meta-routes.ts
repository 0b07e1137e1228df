import { createRoute, z } from "@hono/zod-openapi";
import { servesTasks } from "../../domain/schemas/miner";
import { requireRouterKey } from "../auth/bearer";
import { loadConfig } from "../../domain/config/config";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { chainSignerKey } from "../../domain/config/config";
import { routerSigner } from "../../domain/receipts/router-signer";
import { RouterAnchorSchema, ReceiptSignerSchema, receiptSignerOf, routerAnchorOf, WELL_KNOWN_PATH } from "../../domain/receipts/router-anchor";
import { registryStub } from "../../domain/objects/stubs";
import { ROUTER_VERSION } from "../../domain/version";
import { servedApiVersions } from "./api-versions";

const PingSchema = z.object({ status: z.literal("ok"), time: z.string() }).openapi("Ping");
const AboutSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    api_versions: z.array(z.string()).describe("the router API versions this router serves (`/api/v1/…`, `/api/v2/…`, …), read from its route table"),
    openapi: z.string(),
    docs: z.string(),
    receipt_signer: ReceiptSignerSchema.describe("who signs this router's receipts: verify them against this address (also at /.well-known/cortensor-router.json)"),
  })
  .openapi("About");
const InfoSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    environment: z.string(),
    default_session_id: z.number().int().nullable(),
    limits: z.object({ default_timeout_s: z.number(), max_timeout_s: z.number(), max_body_bytes: z.number().int() }),
    consensus: z.object({ embedding: z.string(), similarity_threshold: z.number(), commit_policies: z.array(z.string()) }),
  })
  .openapi("Info");
const StatusSchema = z
  .object({
    status: z.enum(["ok", "degraded"]),
    time: z.string(),
    miners: z.object({ total: z.number().int(), healthy: z.number().int(), in_flight: z.number().int() }),
    sessions: z.object({ active: z.number().int() }),
  })
  .openapi("Status");

export const metaRoutes = openApiApp()
  .openapi(createRoute({ method: "get", path: "/api/v1/ping", tags: ["meta"], summary: "Liveness", responses: { 200: json(PingSchema, "Alive") } }), (c) =>
    c.json({ status: "ok" as const, time: new Date().toISOString() }, 200),
  )
  .openapi(createRoute({ method: "get", path: "/api/v1/about", tags: ["meta"], summary: "Discovery", responses: { 200: json(AboutSchema, "About this router") } }), (c) =>
    c.json(
      {
        name: loadConfig(c.env).routerName,
        version: ROUTER_VERSION,
        api_versions: [...servedApiVersions()],
        openapi: "/openapi.json",
        docs: "/docs",
        receipt_signer: receiptSignerOf(loadConfig(c.env).signerKey),
      },
      200,
    ),
  )
  .openapi(
    createRoute({
      method: "get",
      path: WELL_KNOWN_PATH,
      tags: ["meta"],
      summary: "The receipts' trust anchor: the router's signer address, for a verifier to pin",
      responses: { 200: json(RouterAnchorSchema, "The router's receipt signer") },
    }),
    (c) => {
      const config = loadConfig(c.env);
      return c.json(
        routerAnchorOf({
          name: config.routerName,
          signerKey: config.signerKey,
          chainId: config.chain.state === "configured" ? config.chain.target.chainId : null,
          // The public base an operator configured, else the one this request came in on.
          base: config.publicUrl ?? new URL(c.req.url).origin,
          receiptAnchor: receiptAnchorOf(config.chain, c.env),
        }),
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/api/v1/info",
      tags: ["meta"],
      summary: "Router node metadata",
      security: bearerSecurity,
      middleware: [requireRouterKey()],
      responses: { 200: json(InfoSchema, "Router metadata"), 401: errorResponses[401] },
    }),
    (c) => {
      const config = loadConfig(c.env);
      return c.json(
        {
          name: config.routerName,
          version: ROUTER_VERSION,
          environment: config.environment,
          default_session_id: config.defaultSessionId ?? null,
          limits: { default_timeout_s: config.defaultTimeoutS, max_timeout_s: config.maxTimeoutS, max_body_bytes: config.maxBodyBytes },
          consensus: { embedding: config.embedding.source, similarity_threshold: config.similarityThreshold, commit_policies: ["quorum", "all"] },
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/api/v1/status",
      tags: ["meta"],
      summary: "Router node status and health",
      security: bearerSecurity,
      middleware: [requireRouterKey()],
      responses: { 200: json(StatusSchema, "Current status"), 401: errorResponses[401] },
    }),
    async (c) => {
      const registry = registryStub(c.env);
      const [miners, sessions] = await Promise.all([registry.listMiners(), registry.listSessions({ includeInactive: false })]);
      const healthy = miners.filter(servesTasks).length;
      return c.json(
        {
          status: healthy > 0 ? ("ok" as const) : ("degraded" as const),
          time: new Date().toISOString(),
          miners: { total: miners.length, healthy, in_flight: miners.reduce((n, m) => n + m.in_flight, 0) },
          sessions: { active: sessions.length },
        },
        200,
      );
    },
  );

/** Where receipts are anchored and by which account, as the well-known document publishes it. */
function receiptAnchorOf(chain: ReturnType<typeof loadConfig>["chain"], env: { CHAIN_SIGNER_KEY?: string | undefined }) {
  const key = chainSignerKey(env);
  if (chain.state !== "configured" || !chain.anchor || !key) return null;
  return { contract: chain.anchor.anchorAddress, sender: routerSigner(key).address };
}
