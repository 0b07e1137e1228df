import { createRoute, z } from "@hono/zod-openapi";
import { isWalletSignature } from "../auth/wallet-signature";
import { loadConfig } from "../../domain/config/config";
import { encodeBase64 } from "hono/utils/encode";
import { sessionKey, taskKey } from "../../domain/crypto/payload-keys";
import { ApiError } from "../../domain/errors";
import { openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { EvmAddressSchema, SessionIdSchema } from "../../domain/schemas/common";
import { sessionClient } from "../../durable-objects/session/session-client";
import type { Env } from "../env";

const SignatureSchema = z.string().max(200).openapi({ description: "EIP-191 personal_sign signature, 0x-prefixed" });
const SessionKeyRequest = z.object({ address: EvmAddressSchema, session_id: SessionIdSchema, signature: SignatureSchema }).openapi("PayloadKeySessionRequest");
const TaskKeyRequest = SessionKeyRequest.extend({ task_id: z.coerce.number().int().min(0) }).openapi("PayloadKeyTaskRequest");

const KeyResponse = z
  .object({
    scope: z.enum(["session", "task"]),
    session_id: z.number().int(),
    task_id: z.number().int().optional(),
    address: z.string(),
    algorithm: z.literal("AES-256-GCM"),
    key: z.string().openapi({ description: "raw 32-byte key, base64" }),
    derivation: z.string(),
  })
  .openapi("PayloadKey");

const DERIVATION =
  "task key = HKDF-SHA256(session key, salt 'cortensor-payload-keys', info 'task:{task_id}'); payload = 12-byte IV || AES-256-GCM ciphertext, associated data = the URN's file name";

const denied = (why: string) => new ApiError(403, "private_payload_denied", `private payload denied: ${why}`);

/**
 * The signer must be the session's owner or one of its payload readers, and
 * must have signed exactly the scope it asks for: "{session_id}" for the
 * session key, "{session_id}:{task_id}" for a task key.
 */
async function authorise(env: Env, address: string, sessionId: number, message: string, signature: string) {
  if (!(await isWalletSignature(address, message, signature))) throw denied("the signature does not verify for this address and scope");
  const session = await sessionClient(env, sessionId).find();
  if (!session?.private) throw denied(`session ${sessionId} has no private payloads`);
  const allowed = [session.owner, ...session.payload_readers].flatMap((a) => (a ? [a.toLowerCase()] : []));
  if (!allowed.includes(address.toLowerCase())) throw denied("the address is not authorised for this session");
  return session;
}

const responses = (what: string) => ({ 200: json(KeyResponse, what), 400: errorResponses[400], 403: { ...errorResponses[401], description: "private_payload_denied" } });

export const payloadKeyRoutes = openApiApp()
  .openapi(
    createRoute({
      method: "post",
      path: "/api/v1/auth/payload_enc_key/session",
      tags: ["privacy"],
      summary: 'Issues a private session\'s payload key to its owner or an allowed wallet (signs "{session_id}")',
      request: { body: { content: { "application/json": { schema: SessionKeyRequest } }, required: true } },
      responses: responses("The session key"),
    }),
    async (c) => {
      const body = c.req.valid("json");
      await authorise(c.env, body.address, body.session_id, String(body.session_id), body.signature);
      const key = await sessionKey(loadConfig(c.env).payloadMasterKey, body.session_id);
      return c.json(
        { scope: "session" as const, session_id: body.session_id, address: body.address, algorithm: "AES-256-GCM" as const, key: encodeBase64(key.buffer), derivation: DERIVATION },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/api/v1/auth/payload_enc_key/task",
      tags: ["privacy"],
      summary: 'Issues one task\'s payload key (the wallet signs "{session_id}:{task_id}")',
      request: { body: { content: { "application/json": { schema: TaskKeyRequest } }, required: true } },
      responses: responses("The task key"),
    }),
    async (c) => {
      const body = c.req.valid("json");
      await authorise(c.env, body.address, body.session_id, `${body.session_id}:${body.task_id}`, body.signature);
      if (!(await sessionClient(c.env, body.session_id).hasTask(body.task_id))) throw denied(`task ${body.task_id} does not exist`);
      const key = await taskKey(loadConfig(c.env).payloadMasterKey, body.session_id, body.task_id);
      return c.json(
        {
          scope: "task" as const,
          session_id: body.session_id,
          task_id: body.task_id,
          address: body.address,
          algorithm: "AES-256-GCM" as const,
          key: encodeBase64(key.buffer),
          derivation: DERIVATION,
        },
        200,
      );
    },
  );
