import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../../domain/errors";
import { openApiApp } from "../http/openapi";
import { SSE_HEADERS } from "../../domain/sse";
import { RequestIdSchema } from "../../domain/schemas/common";
import { ChatMessageSchema } from "../../domain/schemas/completion";
import { BalanceSchema } from "../../domain/gateway/schemas";
import { UsagePageSchema, UsageQuerySchema, usagePage } from "./usage-page";
import { EnvelopeSchema, envelopeErrorHandler, okEnvelope, openAiErrorHandler } from "./envelope";
import { gatewayConfig, modelAlias } from "../../domain/gateway/gateway-config";
import { OpenAiModelListSchema, openAiModelList } from "./model-list";
import { customerKeyOf, requireCustomerKey } from "./customer-auth";
import { serveCompletion, serveStream, type GatewayWork } from "./serve";
import { ledgerStub } from "../../domain/objects/stubs";

const unknownCustomer = () => new ApiError(401, "invalid_api_key", "invalid API key");
/** The key is checked before the request is validated. */
const customerAuth = { security: [{ customerKey: [] }], middleware: [requireCustomerKey()] };

// --- the documented envelope route ---------------------------------------------

const EnvelopeRequestSchema = z
  .object({
    model: z.string().min(1).max(64).default("default"),
    prompt: z.string().min(1).max(1_000_000),
    max_tokens: z.number().int().min(1).max(32_768).optional(),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    stop: z.union([z.string().max(256), z.array(z.string().max(256)).max(4)]).optional(),
    stream: z.boolean().default(false),
    request_id: RequestIdSchema.optional(),
  })
  .openapi("GatewayCompletionRequest");

const sseChunks = z.string().openapi({ description: "OpenAI-style chunks, then `data: [DONE]`" });
const envelopeJson = (description: string) => ({ content: { "application/json": { schema: EnvelopeSchema } }, description });

export const gatewayRoutes = openApiApp()
  .onError(envelopeErrorHandler)
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/completions",
      tags: ["gateway"],
      summary: "Hosted completion: customer key, model alias → router pool and session, usage billed, answered in the gateway envelope",
      ...customerAuth,
      request: { body: { content: { "application/json": { schema: EnvelopeRequestSchema } }, required: true } },
      responses: {
        200: {
          content: { "application/json": { schema: EnvelopeSchema }, "text/event-stream": { schema: sseChunks } },
          description: "status ok; `data` is the completion (with `stream`, server-sent events instead)",
        },
        400: envelopeJson("Bad input"),
        401: envelopeJson("Missing, unknown or revoked key"),
        402: envelopeJson("Spend limit or prepaid balance would be exceeded"),
        403: envelopeJson("The key may not use this model"),
        404: envelopeJson("Unknown model alias"),
        429: envelopeJson("Rate limited; `error.details.retry_after` seconds"),
        502: envelopeJson("Router pool failed"),
        504: envelopeJson("Timed out"),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      c.set("gatewayRequest", { model: body.model, pool: modelAlias(gatewayConfig(c.env), body.model)?.pool });
      const { stream, ...work } = body;
      if (stream) {
        const live = await serveStream(c, work);
        return new Response(live.stream, { headers: { ...SSE_HEADERS, "x-request-id": live.requestId } });
      }
      const served = await serveCompletion(c, work);
      return c.json(okEnvelope(served.requestId, served.model, served.pool, served.completion), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/usage",
      tags: ["gateway"],
      summary: "The caller's own usage records, newest first",
      ...customerAuth,
      request: {
        query: UsageQuerySchema,
      },
      responses: { 200: { content: { "application/json": { schema: UsagePageSchema } }, description: "Usage" } },
    }),
    async (c) => {
      const key = customerKeyOf(c);
      return c.json(await usagePage(c.env, key.customerId, c.req.valid("query"), unknownCustomer), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/balance",
      tags: ["gateway"],
      summary: "The caller's balance and spend",
      ...customerAuth,
      responses: { 200: { content: { "application/json": { schema: BalanceSchema } }, description: "Balance" } },
    }),
    async (c) => {
      const key = customerKeyOf(c);
      const balance = await ledgerStub(c.env, key.customerId).balance();
      if (!balance) throw unknownCustomer();
      return c.json(balance, 200);
    },
  );

// --- OpenAI-compatible surface ---------------------------------------------

/** Fields both OpenAI request shapes share (OpenAI clients send nulls and extra fields; both are accepted). */
const openAiSampling = {
  model: z.string().min(1).max(64),
  max_tokens: z.number().int().min(1).max(32_768).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  n: z.literal(1).nullish(),
  stream: z.boolean().nullish(),
};

const OpenAiCompletionSchema = z
  .object({
    ...openAiSampling,
    prompt: z.union([z.string().min(1), z.array(z.string()).length(1)]).transform((p) => (typeof p === "string" ? p : p.join(""))),
  })
  .passthrough();

const OpenAiChatSchema = z
  .object({
    ...openAiSampling,
    messages: z
      .array(ChatMessageSchema.extend({ content: z.union([z.string(), z.array(z.object({ type: z.literal("text"), text: z.string() }))]) }))
      .min(1)
      .max(256),
    max_completion_tokens: z.number().int().min(1).max(32_768).nullish(),
  })
  .passthrough();

const params = (b: {
  max_tokens?: number | null | undefined;
  temperature?: number | null | undefined;
  top_p?: number | null | undefined;
  stop?: string | string[] | null | undefined;
}) => ({
  ...(b.max_tokens != null ? { max_tokens: b.max_tokens } : {}),
  ...(b.temperature != null ? { temperature: b.temperature } : {}),
  ...(b.top_p != null ? { top_p: b.top_p } : {}),
  ...(b.stop != null ? { stop: b.stop } : {}),
});

async function openAiCompletion(c: Context<AppEnv>, work: GatewayWork, stream: boolean): Promise<Response> {
  // OpenAI clients expect the alias they asked for as the model.
  if (stream) {
    const live = await serveStream(c, work, { model: work.model });
    return new Response(live.stream, { headers: { ...SSE_HEADERS, "x-request-id": live.requestId } });
  }
  const served = await serveCompletion(c, work);
  const completion = { ...served.completion, model: served.model };
  return c.json(completion, 200, { "x-request-id": served.requestId });
}

const openAiCompletionOk = (description: string) => ({
  content: { "application/json": { schema: z.record(z.string(), z.unknown()) }, "text/event-stream": { schema: sseChunks } },
  description,
});

function openAiRoutes(prefix: "/openai/v1" | "/v1", withCompletions: boolean) {
  const app = openApiApp()
    .onError(openAiErrorHandler)
    .openapi(
      createRoute({
        method: "post",
        path: `${prefix}/chat/completions`,
        tags: ["openai"],
        summary: "OpenAI-compatible chat completion (model = a gateway alias)",
        ...customerAuth,
        request: { body: { content: { "application/json": { schema: OpenAiChatSchema } }, required: true } },
        responses: { 200: openAiCompletionOk("chat.completion, or chat.completion.chunk events") },
      }),
      (c) => {
        const b = c.req.valid("json");
        const messages = b.messages.map((m) => ({ ...m, content: typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join("") }));
        return openAiCompletion(c, { model: b.model, messages, ...params({ ...b, max_tokens: b.max_completion_tokens ?? b.max_tokens }) }, b.stream === true);
      },
    )
    .openapi(
      createRoute({
        method: "get",
        path: `${prefix}/models`,
        tags: ["openai"],
        summary: "OpenAI-compatible model list: the gateway's aliases",
        ...customerAuth,
        responses: { 200: { content: { "application/json": { schema: OpenAiModelListSchema } }, description: "list of models" } },
      }),
      async (c) => c.json(await openAiModelList(c.env), 200),
    );
  if (!withCompletions) return app;
  return app.openapi(
    createRoute({
      method: "post",
      path: `${prefix}/completions`,
      tags: ["openai"],
      summary: "OpenAI-compatible text completion",
      ...customerAuth,
      request: { body: { content: { "application/json": { schema: OpenAiCompletionSchema } }, required: true } },
      responses: { 200: openAiCompletionOk("text_completion, or its events") },
    }),
    (c) => {
      const b = c.req.valid("json");
      return openAiCompletion(c, { model: b.model, prompt: b.prompt, ...params(b) }, b.stream === true);
    },
  );
}

/**
 * `/v1/completions` is the documented envelope route. The OpenAI shapes live at
 * `/openai/v1/*` (completions, chat completions, models), which is the base
 * URL to give the openai client; `/v1/chat/completions` and `/v1/models`
 * answer OpenAI shapes too, since the Web2 API Reference defines no envelope for them.
 */
export const openAiCompatRoutes = openApiApp().route("/", openAiRoutes("/openai/v1", true)).route("/", openAiRoutes("/v1", false));
