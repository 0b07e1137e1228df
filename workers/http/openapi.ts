import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./app-env";
import { validationError } from "../../domain/errors";

const TARGETS: Record<string, string> = { json: "body", query: "query", param: "path parameter", header: "header" };

/** An OpenAPIHono whose schema failures become our 400 error, naming the field. */
export function openApiApp() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error, TARGETS[result.target] ?? result.target);
    },
  });
}

export const bearerSecurity = [{ bearer: [] }];
