import { describe, expect, it } from "vitest";
import { sha256Hex } from "../domain/crypto/sha256";
import type { CompletionRequest } from "../domain/schemas/completion";
import { requestFingerprint } from "../domain/sessions/fingerprint";

/** The fingerprint as tasks stored it before: the work's keys sorted by `localeCompare`. */
async function storedFingerprint(sessionId: number, request: Record<string, unknown>, flow: string) {
  const { stream: _s, session_id: _i, request_id: _r, ...work } = request;
  const ordered = Object.fromEntries(Object.entries(work).sort(([a], [b]) => a.localeCompare(b)));
  return sha256Hex(JSON.stringify([sessionId, flow, ordered]));
}

describe("request fingerprint", () => {
  it("is the one stored tasks carry, for every field of a completion request, whatever order they came in", async () => {
    const every = {
      stop: ["\n"],
      top_p: 0.9,
      top_k: 40,
      timeout: 60,
      temperature: 0.2,
      stream: false,
      session_id: 3,
      request_id: "r-1",
      prompt: "hi",
      precommit_timeout: 30,
      model: "m",
      max_tokens: 16,
    } satisfies CompletionRequest;
    const reversed = Object.fromEntries(Object.entries(every).reverse()) as unknown as CompletionRequest;
    for (const request of [every, reversed, { messages: [{ role: "user" as const, content: "hi" }], stream: true, max_tokens: 8 }]) {
      expect(await requestFingerprint(3, request, "v1")).toBe(await storedFingerprint(3, request, "v1"));
    }
  });

  it("orders keys outside a completion request's fields as before (digits and upper case sort differently by code unit)", async () => {
    const odd = { prompt: "x", stream: false, a_1: 1, A_b: 2, a1: 3, ab: 4, "a-b": 5 } as unknown as CompletionRequest;
    expect(await requestFingerprint(1, odd, "v1")).toBe(await storedFingerprint(1, odd as unknown as Record<string, unknown>, "v1"));
  });
});
