import type { x402ResourceServer } from "@x402/core/server";
import { z } from "zod";
import type { Env } from "../env";
import { SSE_DONE } from "../../domain/sse";
import { quotaStub } from "../../domain/objects/stubs";

/** The EIP-3009 authorization an exact-scheme EVM payment carries: who pays, and the nonce that makes it single-use. */
const AuthorizationSchema = z.object({ authorization: z.object({ from: z.string().min(1), nonce: z.string().min(1) }) });

/** Who pays and with which nonce, as a payment payload says; to be trusted only once the facilitator verified its signature. */
export function paymentAuthorization(payload: unknown): { from: string; nonce: string } | undefined {
  const authorization = AuthorizationSchema.safeParse(payload).data?.authorization;
  return authorization && { from: authorization.from.toLowerCase(), nonce: authorization.nonce };
}

/** What the settlement hooks read of the paid handler's response: whether it was a replay, and which request it answered. */
const Answered = z.object({ responseHeaders: z.record(z.string(), z.string()), responseBody: z.instanceof(Uint8Array) });
const AnsweredBody = z.object({ session_id: z.number().int(), request_id: z.string().nullable() });
/** A stream's closing chunk: the decided task's consensus record (a failed stream closes with an `{ error }` event instead). */
const ClosingChunk = z.object({ session_id: z.number().int(), consensus: z.object({}).passthrough() });

type AnsweredWork = { replayed: boolean; paidKey: string | null; unfinished: boolean };

function jsonOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A streamed completion (server-sent events) as the middleware read it
 * whole: finished only when it closed with the task's closing chunk and
 * `[DONE]`; a stream whose work failed closes with an error event instead.
 * Its chunks carry no request id: the `x-request-id` header names it.
 */
function answeredStream(text: string, headers: Record<string, string>): Omit<AnsweredWork, "replayed"> {
  const events = text
    .split("\n\n")
    .filter((e) => e.startsWith("data: "))
    .map((e) => e.slice("data: ".length));
  const closing = events.at(-1) === SSE_DONE ? ClosingChunk.safeParse(jsonOf(events.at(-2) ?? "")).data : undefined;
  if (!closing) return { paidKey: null, unfinished: true };
  const requestId = headers["x-request-id"];
  return { paidKey: requestId ? `paid:${closing.session_id}:${requestId}` : null, unfinished: false };
}

function answered(transportContext: unknown): AnsweredWork {
  const parsed = Answered.safeParse(transportContext).data;
  if (!parsed) return { replayed: false, paidKey: null, unfinished: false };
  const replayed = parsed.responseHeaders["x-idempotent-replay"] === "true";
  const text = new TextDecoder().decode(parsed.responseBody);
  if (parsed.responseHeaders["content-type"]?.startsWith("text/event-stream")) return { replayed, ...answeredStream(text, parsed.responseHeaders) };
  const ids = AnsweredBody.safeParse(jsonOf(text)).data;
  return { replayed, paidKey: ids?.request_id ? `paid:${ids.session_id}:${ids.request_id}` : null, unfinished: false };
}

/**
 * The router's side of payment accounting, kept per payer in a Quota
 * object (one atomic claim per authorization nonce):
 *
 * - a nonce is claimed only after the facilitator verified the payment, so
 *   a forged payload naming someone else's payer and nonce claims nothing;
 *   a second use of a claimed nonce is refused (402);
 * - a request refused before any work (4xx) gives its claim back: the same
 *   payment pays for the corrected request;
 * - an answer replayed from the payer's earlier task is settled only if
 *   that task's answer was paid for; otherwise (its settlement failed) the
 *   replay is charged like fresh work;
 * - work that failed (5xx) is never settled, and its claim stays; nor is a
 *   streamed completion that did not finish (its work failed after the
 *   stream began: it closes with an error event, status 200 already sent).
 *   The middleware reads a stream whole before it settles, so a client that
 *   leaves before the end cancels the request, and nothing is settled.
 */
export function registerPaymentClaims(server: x402ResourceServer, env: Env, network: string) {
  const payerOf = (payload: unknown) => {
    const authorization = paymentAuthorization(payload);
    return authorization && { quota: quotaStub(env, `payer:${authorization.from}`), nonce: `${network}:${authorization.nonce}`, from: authorization.from };
  };

  server.onAfterVerify(async ({ paymentPayload, result }) => {
    if (!result.isValid) return undefined;
    const payer = payerOf(paymentPayload.payload);
    if (!payer) return { abort: true, reason: "invalid_payload", message: "the payment carries no authorization nonce" };
    try {
      return (await payer.quota.claimOnce(payer.nonce)) ? undefined : { abort: true, reason: "payment_replayed", message: "this payment authorization was already used" };
    } catch (err) {
      // The library logs and ignores a hook that throws: refuse instead, never accept a payment unclaimed.
      console.error("claiming a payment nonce failed", err);
      return { abort: true, reason: "payment_check_unavailable", message: "the payment could not be checked; try again" };
    }
  });

  server.onVerifiedPaymentCanceled(async ({ paymentPayload, reason, responseStatus }) => {
    if (reason !== "handler_failed" || responseStatus === undefined || responseStatus < 400 || responseStatus >= 500) return;
    const payer = payerOf(paymentPayload.payload);
    if (payer) await payer.quota.release(payer.nonce);
  });

  server.onBeforeSettle(async ({ paymentPayload, requirements, transportContext }) => {
    const { replayed, paidKey, unfinished } = answered(transportContext);
    const payer = payerOf(paymentPayload.payload);
    // Failed work, as a stream reports it: nothing is settled (the answer says so), and the claim stays, as for a 5xx.
    if (unfinished && payer) return { skip: true, result: { success: true, transaction: "", network: requirements.network, payer: payer.from } };
    if (!replayed || !paidKey || !payer || !(await payer.quota.claimed(paidKey))) return undefined;
    // Already paid for: nothing is settled, and this payment stays usable.
    await payer.quota.release(payer.nonce);
    return { skip: true, result: { success: true, transaction: "", network: requirements.network, payer: payer.from } };
  });

  server.onAfterSettle(async ({ paymentPayload, result, transportContext }) => {
    const { paidKey } = answered(transportContext);
    const payer = payerOf(paymentPayload.payload);
    if (result.success && result.transaction && paidKey && payer) await payer.quota.claimOnce(paidKey);
  });
}
