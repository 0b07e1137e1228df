import { meteredUsage } from "../metering/count-tokens.ts";
import { receiptPath } from "../receipts/receipt-schema.ts";
import type { CompletionResponse, MinerRecord, MinerRequest } from "../schemas/completion.ts";
import type { AnsweredSlot } from "./run-task.ts";

import type { StreamHead } from "../sse.ts";

export const completionId = (kind: "completion" | "chat", sessionId: number, taskId: number) => `${kind === "chat" ? "chatcmpl" : "cmpl"}-${sessionId}-${taskId}`;

/** The fields a live stream's chunks share, known as soon as the task exists. */
export function streamHead(task: { sessionId: number; taskId: number; kind: "completion" | "chat"; model: string; created: number }): StreamHead {
  return {
    id: completionId(task.kind, task.sessionId, task.taskId),
    object: task.kind === "chat" ? "chat.completion.chunk" : "text_completion",
    created: Math.floor(task.created / 1000),
    model: task.model,
    session_id: task.sessionId,
    task_id: task.taskId,
  };
}

/**
 * The OpenAI-style completion object a client receives, extended with the
 * session, the task and the per-miner consensus record. Its usage is the
 * router's own count of the request it sent and the winner's text
 * (`metering/count-tokens.ts`), never what a miner reported.
 */
export function buildCompletion(input: {
  sessionId: number;
  taskId: number;
  requestId: string | null;
  model: string;
  kind: "completion" | "chat";
  /** What every miner was sent: the prompt counted, and `max_tokens` the bound of the completion. */
  request: Pick<MinerRequest, "prompt" | "messages" | "max_tokens">;
  winner: AnsweredSlot;
  consensus: CompletionResponse["consensus"];
  miners: MinerRecord[];
  created: number;
}): CompletionResponse {
  const output = input.winner.output;
  const finishReason = output.finishReason ?? "stop";
  const choice =
    input.kind === "chat"
      ? { index: 0, message: { role: "assistant" as const, content: output.text }, finish_reason: finishReason }
      : { index: 0, text: output.text, finish_reason: finishReason, logprobs: null };
  return {
    id: completionId(input.kind, input.sessionId, input.taskId),
    object: input.kind === "chat" ? "chat.completion" : "text_completion",
    created: Math.floor(input.created / 1000),
    model: input.model,
    choices: [choice],
    usage: meteredUsage(input.request, output.text),
    session_id: input.sessionId,
    task_id: input.taskId,
    request_id: input.requestId,
    consensus: input.consensus,
    miners: input.miners,
    receipt_url: receiptPath(input.sessionId, input.taskId),
  };
}
