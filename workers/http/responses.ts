import { ErrorBodySchema } from "./errors";

const error = (description: string) => ({ content: { "application/json": { schema: ErrorBodySchema } }, description });

/** Error responses shared by route declarations, for the OpenAPI document. */
export const errorResponses = {
  400: error("Bad input; `details.issues` names each field"),
  401: error("Missing or invalid bearer key"),
  404: error("Unknown session, task or miner"),
  413: error("Body larger than the configured limit"),
} as const;

export const json = <T>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});
