import { createRoute } from "@hono/zod-openapi";
import { requireRouterKey } from "../auth/bearer";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { ReceiptSchema } from "../../domain/receipts/receipt-schema";
import { TaskIdParamSchema } from "../../domain/schemas/common";
import { ApiError } from "../../domain/errors";
import { sessionClient } from "../../durable-objects/session/session-client";
import { ownsTask, taskViewerOf } from "../sessions/task-viewer";

export const receiptRoutes = openApiApp().openapi(
  createRoute({
    method: "get",
    path: "/api/v1/tasks/{sessionId}/{taskId}/receipt",
    tags: ["tasks"],
    summary: "A task's signed receipt: how its answer was reached, checkable offline (npm run verify); the admin key reads every task's, a router key its own tasks'",
    security: bearerSecurity,
    middleware: [requireRouterKey()],
    request: { params: TaskIdParamSchema },
    responses: {
      200: json(ReceiptSchema, "The receipt"),
      400: errorResponses[400],
      401: errorResponses[401],
      403: errorResponses[403],
      404: errorResponses[404],
    },
  }),
  async (c) => {
    const { sessionId, taskId } = c.req.valid("param");
    const client = sessionClient(c.env, sessionId);
    // A receipt carries every miner's output: like the task view, only its caller (or the admin) reads it.
    // The receipt first: a task without one is receipt_not_found, whoever asks.
    const [viewer, receipt] = await Promise.all([taskViewerOf(c), client.getReceipt(taskId)]);
    if (!viewer.all && !ownsTask(viewer, await client.getTask(taskId))) throw new ApiError(403, "receipt_access_denied", "the task was submitted by another caller");
    return c.json(receipt, 200);
  },
);
