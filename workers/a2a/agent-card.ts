import { z } from "zod";
import { AgentCard } from "@a2a-js/sdk";
import { ROUTER_VERSION } from "../../domain/version";

/** The x402 extension for A2A: paid calls, see the /api/v1/x402/* and /api/v2/x402/* routes. */
export const X402_EXTENSION = "https://github.com/google-agentic-commerce/a2a-x402/blob/main/spec/v0.1";

/** Every route that takes an x402 payment (workers/router/x402-routes.ts; test/a2a.test.ts holds this list to the OpenAPI document's). */
export const X402_PAID_ROUTES = [
  "/api/v1/x402/ping",
  "/api/v1/x402/completions",
  "/api/v1/x402/completions/{sessionId}",
  "/api/v1/x402/factcheck",
  "/api/v1/x402/delegate",
  "/api/v2/x402/delegate",
  "/api/v1/x402/validate",
  "/api/v2/x402/validate",
] as const;

/** The card's two security schemes, once: the v1.0 and the 0.3 form are both written from these. */
const BEARER = { scheme: "Bearer", description: "Router API key" } as const;
const X402_PAYMENT = {
  name: "PAYMENT-SIGNATURE",
  description: "x402 payment per request on /api/v1/x402/* and /api/v2/x402/* (v1 clients: X-PAYMENT)",
} as const;

const skill = (id: string, name: string, description: string, examples: string[], tags: string[]) => ({
  id,
  name,
  description,
  tags,
  examples,
  inputModes: ["text/plain", "application/json"],
  outputModes: ["text/plain", "application/json"],
  securityRequirements: [],
});

/**
 * This router's Agent Card, read through the SDK's own AgentCard message so
 * that what is served is what the A2A schema says, field for field.
 */
export function agentCard(origin: string, name: string): AgentCard {
  const rpc = `${origin}/api/v1/a2a`;
  return AgentCard.fromJSON({
    name,
    description:
      "Edge router of a decentralized AI inference network: completions, delegated tasks, validation and fact-checking, each run on redundant GPU miners and answered by consensus.",
    version: ROUTER_VERSION,
    documentationUrl: `${origin}/docs`,
    provider: { organization: "Cortensor network operator", url: origin },
    supportedInterfaces: [
      { url: rpc, protocolBinding: "JSONRPC", protocolVersion: "1.0" },
      { url: rpc, protocolBinding: "JSONRPC", protocolVersion: "0.3" },
    ],
    capabilities: {
      streaming: false,
      pushNotifications: false,
      extensions: [
        {
          uri: X402_EXTENSION,
          description: "Pay per request with x402 instead of a key: the /api/v1/x402/* and /api/v2/x402/* routes answer 402 with payment requirements.",
          required: false,
          params: { routes: [...X402_PAID_ROUTES] },
        },
      ],
    },
    securitySchemes: {
      bearer: { httpAuthSecurityScheme: BEARER },
      // The paid REST routes (see the x402 extension); this JSON-RPC endpoint takes the bearer key.
      x402: { apiKeySecurityScheme: { location: "header", ...X402_PAYMENT } },
    },
    securityRequirements: [{ schemes: { bearer: { list: [] } } }],
    defaultInputModes: ["text/plain", "application/json"],
    defaultOutputModes: ["text/plain", "application/json"],
    skills: [
      skill(
        "completion",
        "Completion",
        "Text completion by redundant miners, answered by consensus (POST /api/v1/completions).",
        ["What is Cortensor?"],
        ["inference", "completion"],
      ),
      skill(
        "delegate",
        "Delegate",
        "Runs a delegated task (objective and input) on a session's miners; A2A messages run as delegate tasks.",
        ["Summarize the technical purpose of Cortensor routers."],
        ["delegation", "tasks"],
      ),
      skill(
        "validate",
        "Validate",
        "Checks a claim against rules; verdict VALID, INVALID, RETRY or NEEDS_SPEC (POST /api/v2/validate).",
        ["Validate whether this output describes router behavior accurately."],
        ["validation"],
      ),
      skill(
        "factcheck",
        "Factcheck",
        "Fact-checks a statement, standard or with realtime evidence (POST /api/v1/factcheck).",
        ["Cortensor supports router, miner, oracle, and validator roles."],
        ["factcheck"],
      ),
    ],
  });
}

/**
 * What a 0.3 client reads from a card (A2A 0.3 `AgentCard`: top-level `url`,
 * `protocolVersion`, `preferredTransport`, `security`, and each security scheme
 * with its `type`). These fields are not in the v1.0 schema, so a v1.0 parser
 * skips them, and the SDK's v1.0 client, seeing `supportedInterfaces`, reads the
 * card as v1.0 (`isLegacyAgentCard`).
 */
function legacyCardFields(origin: string) {
  return {
    url: `${origin}/api/v1/a2a`,
    protocolVersion: "0.3",
    preferredTransport: "JSONRPC",
    security: [{ bearer: [] }],
    securitySchemes: {
      bearer: { type: "http", ...BEARER },
      x402: { type: "apiKey", in: "header", ...X402_PAYMENT },
    },
  };
}

/**
 * The card as served: the v1.0 schema's JSON form of `agentCard`, with the
 * 0.3 fields laid over it (each security scheme carries both of its forms), so
 * that clients of either version the card declares read it.
 */
const JsonObject = z.record(z.string(), z.unknown());
const SchemesJson = z.record(z.string(), z.record(z.string(), z.unknown()));
export function agentCardJson(origin: string, name: string) {
  const v1 = JsonObject.parse(AgentCard.toJSON(agentCard(origin, name)));
  const legacy = legacyCardFields(origin);
  const v1Schemes = SchemesJson.parse(v1.securitySchemes ?? {});
  const securitySchemes = Object.fromEntries(Object.entries(legacy.securitySchemes).map(([id, scheme]) => [id, { ...v1Schemes[id], ...scheme }]));
  return { ...v1, ...legacy, securitySchemes };
}
