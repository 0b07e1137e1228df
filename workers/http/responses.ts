import { z } from "@hono/zod-openapi";
import { CompletionResponseSchema, ConsensusStatusSchema } from "../../domain/schemas/completion";
import { ErrorBodySchema } from "../../domain/errors";

const error = (description: string) => ({ content: { "application/json": { schema: ErrorBodySchema } }, description });

/** Error responses shared by route declarations, for the OpenAPI document. */
export const errorResponses = {
  400: error("Bad input; `details.issues` names each field"),
  401: error("Missing or invalid bearer key"),
  403: error("Not allowed"),
  404: error("Unknown session, task or miner"),
  409: error("request_id reused for different work, or session inactive"),
  413: error("Body larger than the configured limit"),
  502: error("Every assigned miner failed"),
  503: error("No miner available for the session's model"),
  504: error("No result before the timeout"),
} as const;

export const json = <T>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

/** A completion as JSON, or as server-sent events with `stream: true`. */
export const completionOk = {
  content: {
    "application/json": { schema: CompletionResponseSchema },
    "text/event-stream": { schema: z.string().openapi({ description: "OpenAI-style chunks, then `data: [DONE]`" }) },
  },
  description: "The agreed completion (or its stream when `stream` is true)",
  headers: z.object({
    "x-consensus": ConsensusStatusSchema.optional().openapi({
      description: "`consensus.status`: how many of the miners asked for gave the answer (absent on a live stream; its closing chunk has it)",
    }),
  }),
};

export const completionResponses = {
  200: completionOk,
  400: errorResponses[400],
  401: errorResponses[401],
  404: errorResponses[404],
  409: errorResponses[409],
  413: errorResponses[413],
  502: errorResponses[502],
  503: errorResponses[503],
  504: errorResponses[504],
} as const;
