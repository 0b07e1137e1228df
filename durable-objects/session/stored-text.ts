import type { Slot } from "../../domain/protocol/run-task";
import type { ReceiptBody } from "../../domain/receipts/receipt-schema";
import type { CompletionResponse } from "../../domain/schemas/completion";

/**
 * A public task's output text is stored once, in its assignment's `output`
 * (written with the task's outcome, in the same transaction). The completion
 * kept for replays and the task view (`tasks.result`) holds null where its
 * answer's text was and names the winning slot (`tasks.result_text_slot`);
 * the receipt's body holds null where each counted miner's output was
 * (`tasks.receipt_outputs_in_assignments`). Both are filled back before they are
 * parsed, so what a route answers is what it answered when they held the
 * text (the schemas' parse gives the keys their order either way). Private
 * sessions store no output text in assignments: their records are sealed
 * whole, as before, and so are rows written before this change.
 */

type Choice = CompletionResponse["choices"][number];
type Stored = { choices: { text?: string | null; message?: { content: string | null } }[] };

const answerText = (choice: Choice | undefined) => (choice?.message ? choice.message.content : choice?.text);

/** The completion to store without its answer's text, and the slot whose assignment holds it; the completion whole when that slot's output is not that text. */
export function completionToStore(completion: CompletionResponse, winner: Slot): { value: CompletionResponse | Stored; textSlot: number | null } {
  const [first, ...rest] = completion.choices;
  const text = answerText(first);
  if (!first || text === undefined || winner.state !== "precommitted" || winner.output?.text !== text) return { value: completion, textSlot: null };
  const choice = first.message ? { ...first, message: { ...first.message, content: null } } : { ...first, text: null };
  return { value: { ...completion, choices: [choice, ...rest] }, textSlot: winner.slot };
}

/** The stored completion (parsed JSON) with its answer's text back in place. */
export function withAnswerText(stored: Stored, text: string | null): unknown {
  const [first, ...rest] = stored.choices;
  if (!first) return stored;
  const choice = first.message ? { ...first, message: { ...first.message, content: text } } : { ...first, text };
  return { ...stored, choices: [choice, ...rest] };
}

/**
 * The receipt body to store: each miner's output replaced by null when it
 * is the text its assignment holds (public sessions; `written`: the
 * outputs the slot recorder wrote), and whether any was.
 */
export function receiptToStore(body: ReceiptBody, slots: readonly Slot[]): { value: ReceiptBody | StoredReceiptBody; outputsInAssignments: boolean } {
  if (body.private) return { value: body, outputsInAssignments: false };
  const written = new Map(slots.map((s) => [s.slot, s.state === "precommitted" ? s.output?.text : undefined]));
  if (!body.miners.every((m) => m.output === undefined || written.get(m.slot) === m.output)) return { value: body, outputsInAssignments: false };
  return { value: { ...body, miners: body.miners.map((m) => (m.output === undefined ? m : { ...m, output: null })) }, outputsInAssignments: true };
}

type StoredReceiptBody = Omit<ReceiptBody, "miners"> & { miners: (Omit<ReceiptBody["miners"][number], "output"> & { output?: string | null })[] };

/** The stored receipt body (parsed JSON) with each miner's output back from its assignment. */
export function withOutputs(stored: StoredReceiptBody, outputs: ReadonlyMap<number, string | null>): unknown {
  return { ...stored, miners: stored.miners.map((m) => (m.output === null ? { ...m, output: outputs.get(m.slot) ?? null } : m)) };
}
