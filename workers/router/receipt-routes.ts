import { createRoute } from "@hono/zod-openapi";
import { requireRouterKey } from "../auth/bearer";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { ReceiptSchema } from "../receipts/receipt-schema";
import { TaskIdParamSchema } from "../schemas/common";
import { sessionClient } from "../sessions/session-client";

export const receiptRoutes = openApiApp().openapi(
  createRoute({
    method: "get",
    path: "/api/v1/tasks/{sessionId}/{taskId}/receipt",
    tags: ["tasks"],
    summary: "A task's signed receipt: how its answer was reached, checkable offline (npm run verify)",
    security: bearerSecurity,
    middleware: [requireRouterKey()],
    request: { params: TaskIdParamSchema },
    responses: {
      200: json(ReceiptSchema, "The receipt"),
      400: errorResponses[400],
      401: errorResponses[401],
      404: errorResponses[404],
    },
  }),
  async (c) => {
    const { sessionId, taskId } = c.req.valid("param");
    return c.json(await sessionClient(c.env, sessionId).getReceipt(taskId), 200);
  },
);
