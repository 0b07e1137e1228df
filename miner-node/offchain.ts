/**
 * The miner's side of the router's off-chain extension (the `cortensor` field
 * of a task sent to a miner registered with `offchain: true`): the prompt is
 * a URN, fetched from `payload_url` with the task's assignment token, and the
 * result may be delivered to `result_url` later (after answering 202
 * `{"delivery": "offchain"}`). Shared by the miner node and the dev miner.
 */
import { SIGNATURE_FIELD } from "../domain/miners/result-signature.ts";

export type OffchainExtension = {
  session_id: number;
  task_id: number;
  prompt_urn: string;
  /** "messages-json" (a chat's messages as a JSON array) or "text" (a completion's prompt). */
  payload_format: string;
  payload_url: string;
  result_url: string;
  /** The assignment token: good for this task and this miner only. */
  token: string;
};

/** The extension a request body carries, or undefined when it carries none that reads. */
export function offchainOf(body: Record<string, unknown>): OffchainExtension | undefined {
  const ext = body["cortensor"];
  if (!ext || typeof ext !== "object") return undefined;
  const o = ext as Partial<OffchainExtension>;
  return typeof o.payload_url === "string" && typeof o.token === "string" && typeof o.result_url === "string" && typeof o.task_id === "number" && typeof o.session_id === "number"
    ? (o as OffchainExtension)
    : undefined;
}

export type PromptPayload = { kind: "text"; prompt: string } | { kind: "messages"; messages: { role: string; content: string }[] };

/** Fetches the task's prompt with its assignment token. */
export async function fetchPayload(ext: OffchainExtension, signal?: AbortSignal): Promise<PromptPayload> {
  const res = await fetch(ext.payload_url, { headers: { authorization: `Bearer ${ext.token}` }, ...(signal ? { signal } : {}) });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`the payload route answered ${res.status}`);
  }
  const text = await res.text();
  if (ext.payload_format !== "messages-json") return { kind: "text", prompt: text };
  const messages = JSON.parse(text) as unknown;
  if (!Array.isArray(messages) || !messages.every((m) => m && typeof m === "object" && typeof m.role === "string" && typeof m.content === "string")) {
    throw new Error("the payload is not a list of chat messages");
  }
  return { kind: "messages", messages };
}

/** A payload as one text (each message's content a line): how a model without chat turns reads it. */
export const payloadText = (p: PromptPayload): string => (p.kind === "text" ? p.prompt : p.messages.map((m) => m.content).join("\n"));

export type Delivery = { text: string; usage?: { prompt_tokens: number; completion_tokens: number } | undefined; signature?: string | undefined };

/** Delivers a result to the router (POST result_url with the assignment token). */
export async function deliverResult(ext: OffchainExtension, d: Delivery): Promise<void> {
  const res = await fetch(ext.result_url, {
    method: "POST",
    headers: { authorization: `Bearer ${ext.token}`, "content-type": "application/json" },
    body: JSON.stringify({
      session_id: ext.session_id,
      task_id: ext.task_id,
      result: d.text,
      ...(d.usage ? { usage: d.usage } : {}),
      ...(d.signature ? { [SIGNATURE_FIELD]: d.signature } : {}),
    }),
  });
  if (!res.ok) throw new Error(`the result route answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
}
