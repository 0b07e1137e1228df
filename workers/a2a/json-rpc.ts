import { A2A_VERSION_HEADER } from "@a2a-js/sdk";
import { LegacyJsonRpcTransportHandler } from "@a2a-js/sdk/compat/v0_3/server";
import { isLegacyJsonRpcMethod } from "@a2a-js/sdk/compat/v0_3";
import { DefaultRequestHandler, JsonRpcTransportHandler, UnauthenticatedUser, defaultServerCallContextBuilder, validateVersion } from "@a2a-js/sdk/server";
import type { Context } from "hono";
import { agentCard } from "./agent-card";
import { DelegateExecutor } from "./delegate-executor";
import { DurableTaskStore } from "./task-store";
import { callerOf } from "../http/caller-of";
import { loadConfig } from "../../domain/config/config";
import { sha256Hex } from "../../domain/crypto/sha256";
import type { AppEnv } from "../http/app-env";
import { z } from "zod";

const JsonRpcSchema = z
  .object({ jsonrpc: z.literal("2.0"), id: z.union([z.string(), z.number(), z.null()]).optional(), method: z.string(), params: z.unknown().optional() })
  .passthrough();

/**
 * The A2A JSON-RPC endpoint, through the SDK's own request handler and
 * transports: v1.0 methods (SendMessage, GetTask, CancelTask) and the v0.3
 * names (message/send, tasks/get, tasks/cancel). Tasks are kept per caller
 * key in a Durable Object, so any isolate can read or cancel them.
 */
export async function handleA2aJsonRpc(c: Context<AppEnv>) {
  const config = loadConfig(c.env);
  const parsed = JsonRpcSchema.safeParse(await c.req.json().catch(() => null));
  if (!parsed.success) return c.json({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } }, 200);
  const body = parsed.data;
  const legacy = isLegacyJsonRpcMethod(body.method);
  const card = agentCard(new URL(c.req.url).origin, config.routerName);
  const token = /^Bearer\s+(\S+)/i.exec(c.req.header("Authorization") ?? "")?.[1] ?? "";
  const owner = (await sha256Hex(token)).slice(0, 32);
  const tasks = new DurableTaskStore(c.env, owner);
  const handler = new DefaultRequestHandler(card, tasks, new DelegateExecutor(c.env, config, callerOf(c), tasks));
  const context = defaultServerCallContextBuilder({
    extensions: [],
    user: new UnauthenticatedUser(),
    headers: Object.fromEntries(c.req.raw.headers),
    requestedVersion: c.req.header(A2A_VERSION_HEADER) ?? (legacy ? "0.3" : "1.0"),
  });
  const mapError = legacy ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError : JsonRpcTransportHandler.mapToJSONRPCError;
  try {
    validateVersion(context.requestedVersion, card, "JSONRPC");
    const transport = legacy ? new LegacyJsonRpcTransportHandler(handler) : new JsonRpcTransportHandler(handler);
    const result = await transport.handle(body, context);
    if (!(Symbol.asyncIterator in result)) return c.json(result, 200);
    // Streaming is not offered (capabilities.streaming is false): answer with the last event.
    let last: (typeof result extends AsyncGenerator<infer E> ? E : never) | null = null;
    for await (const event of result) last = event;
    if (last === null) return c.json({ jsonrpc: "2.0", id: body.id ?? null, error: { code: -32603, message: "the task produced no event" } }, 200);
    return c.json(last, 200);
  } catch (err) {
    return c.json({ jsonrpc: "2.0", id: body.id ?? null, error: mapError(err) }, 200);
  }
}
