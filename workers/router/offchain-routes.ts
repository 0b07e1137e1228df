import { createRoute, z } from "@hono/zod-openapi";
import { requireAssignmentToken } from "../auth/assignment-bearer";
import { ApiError, ErrorBodySchema } from "../../domain/errors";
import { openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { backendFor, payloadBackends } from "../../domain/payloads/backends";
import { parseUrn } from "../../domain/payloads/urn";
import { sessionClient } from "../../durable-objects/session/session-client";
import { ReportedFigure, reportedUsage } from "../../domain/miners/miner-output";

/** Miners authenticate here with the assignment token their task came with, checked before the input. */
// A one-element tuple (not an array): the handlers' context then knows the claims the middleware sets.
const assignmentToken: [ReturnType<typeof requireAssignmentToken>] = [requireAssignmentToken()];
const minerAuth = { security: [{ assignmentToken: [] }], middleware: assignmentToken };
const forbidden = { content: { "application/json": { schema: ErrorBodySchema } }, description: "Not this assignment's payload" };

export const offchainRoutes = openApiApp()
  .openapi(
    createRoute({
      method: "get",
      path: "/api/v3/offchain/payload",
      tags: ["off-chain"],
      summary: "A miner reads the prompt payload of a task assigned to it",
      ...minerAuth,
      request: { query: z.object({ urn: z.string().min(1).max(1024) }) },
      responses: {
        200: { content: { "text/plain": { schema: z.string() } }, description: "The payload (decrypted for the assigned miner)" },
        400: errorResponses[400],
        401: errorResponses[401],
        403: forbidden,
      },
    }),
    async (c) => {
      const claims = c.get("assignment");
      const { urn } = c.req.valid("query");
      backendFor(parseUrn(urn), payloadBackends(c.env));
      return c.text(await sessionClient(c.env, claims.s).readPayloadForMiner(claims, urn), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/api/v3/offchain/result",
      tags: ["off-chain"],
      summary: "An assigned miner delivers its result as a stored payload",
      ...minerAuth,
      request: {
        body: {
          content: {
            "application/json": {
              schema: z
                .object({
                  session_id: z.number().int().min(0),
                  task_id: z.number().int().min(0),
                  result: z.string().min(1),
                  /** The miner's EIP-191 signature of this result (see domain/miners/result-signature.ts), when the router asked for one. */
                  cortensor_signature: z.string().max(200).optional(),
                  /** The usage the miner counted: kept for audit only (what is billed is the router's own count). */
                  usage: z.object({ prompt_tokens: ReportedFigure, completion_tokens: ReportedFigure }).optional(),
                })
                .openapi("OffchainResult"),
            },
          },
          required: true,
        },
      },
      responses: {
        200: json(z.object({ urn: z.string(), sha256: z.string() }), "Stored and handed to consensus"),
        400: errorResponses[400],
        401: errorResponses[401],
        403: forbidden,
        409: { content: { "application/json": { schema: ErrorBodySchema } }, description: "The task is not awaiting this miner's result" },
        413: errorResponses[413],
      },
    }),
    async (c) => {
      const claims = c.get("assignment");
      const body = c.req.valid("json");
      if (body.session_id !== claims.s || body.task_id !== claims.t) {
        throw new ApiError(403, "payload_access_denied", "the token is for another task");
      }
      return c.json(await sessionClient(c.env, claims.s).deliverResult(claims, body.result, body.cortensor_signature, body.usage && reportedUsage(body.usage)), 200);
    },
  );
