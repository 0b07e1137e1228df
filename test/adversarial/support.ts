import { z } from "zod";
import { sha256Hex } from "../../domain/crypto/sha256";
import { CompletionResponseSchema, type CompletionResponse } from "../../domain/schemas/completion";
import { call } from "../helpers";

/** A completion on a session, parsed by the response schema (so the test reads what the OpenAPI document promises). */
export async function complete(sessionId: number, body: Record<string, unknown>) {
  const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: body });
  if (res.status !== 200) throw new Error(`completion answered ${res.status}: ${await res.text()}`);
  return { res, body: CompletionResponseSchema.parse(await res.json()) };
}

export const textOf = (c: CompletionResponse) => c.choices[0]?.text ?? c.choices[0]?.message?.content ?? "";

/** The record of one miner in a completion. */
export function recordOf(c: CompletionResponse, minerId: string | undefined) {
  const record = c.miners.find((m) => m.miner === minerId);
  if (!record) throw new Error(`miner ${minerId} has no record in task ${c.task_id}`);
  return record;
}

/** Whether the answer is exactly what the given (honest) miner produced. */
export async function isOutputOf(c: CompletionResponse, minerId: string | undefined) {
  return (await sha256Hex(textOf(c))) === recordOf(c, minerId).precommit_hash;
}

/** Server-sent events of a completion, each chunk parsed as JSON. */
export async function readEvents(res: Response) {
  const raw = await res.text();
  const data = raw
    .split("\n\n")
    .filter(Boolean)
    .map((e) => e.replace(/^data: /, ""));
  const Chunk = z.object({
    choices: z.array(z.object({ text: z.string().optional(), delta: z.object({ content: z.string().optional() }).optional() })).optional(),
    consensus: CompletionResponseSchema.shape.consensus.optional(),
    error: z.object({ code: z.string() }).optional(),
  });
  return { chunks: data.filter((d) => d !== "[DONE]").map((d) => Chunk.parse(JSON.parse(d))), done: data.at(-1) === "[DONE]" };
}
