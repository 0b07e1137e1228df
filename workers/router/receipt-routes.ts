import { createRoute } from "@hono/zod-openapi";
import { requireRouterKey } from "../auth/bearer";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { ReceiptSchema } from "../../domain/receipts/receipt-schema";
import { TaskIdParamSchema } from "../../domain/schemas/common";
import { ApiError } from "../../domain/errors";
import { sessionClient } from "../../durable-objects/session/session-client";
import { ownsTask, taskViewerOf } from "../sessions/task-viewer";
import { loadConfig } from "../../domain/config/config";
import { anchorStub } from "../../domain/objects/stubs";

export const receiptRoutes = openApiApp().openapi(
  createRoute({
    method: "get",
    path: "/api/v1/tasks/{sessionId}/{taskId}/receipt",
    tags: ["tasks"],
    summary:
      "A task's signed receipt: how its answer was reached, checkable offline (npm run verify), with its anchor on chain where the router anchors receipts; the admin key reads every task's, a router key its own tasks'",
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
    // Where the router anchors receipts, each says where its anchor is, or that it is not anchored yet.
    const chain = loadConfig(c.env).chain;
    const target = chain.state === "configured" ? chain.anchor : null;
    if (!target) return c.json(receipt, 200);
    const anchor = (await anchorStub(c.env, target).receiptAnchor(sessionId, taskId)) ?? { status: "pending" as const };
    return c.json({ ...receipt, anchor }, 200);
  },
);
