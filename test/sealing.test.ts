import { decodeBase64, encodeBase64 } from "hono/utils/encode";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { decryptPayload, encryptPayload, taskKey } from "../domain/crypto/payload-keys";
import { open, seal } from "../domain/crypto/secret-box";
import { call, createSession, minerInbox, minersFor, until } from "./helpers";

const Completion = z.object({ task_id: z.number(), choices: z.array(z.object({ text: z.string() })), encrypted: z.boolean() });
const Dispatch = z.object({ cortensor: z.object({ session_id: z.number(), task_id: z.number(), token: z.string() }) });

const post = (path: string, json: unknown, key?: string) => call(path, { method: "POST", json, ...(key === undefined ? {} : { key }) });

describe("sealing large values", () => {
  it("seals a private session's 250 KB off-chain result and reads it back", async () => {
    const owner = privateKeyToAccount(generatePrivateKey());
    const { model } = await minersFor(["offchain"], { offchain: true });
    const sessionId = await createSession({ model, private: true, owner: owner.address });
    const request = { prompt: "write a very long answer", timeout: 20, precommit_timeout: 15, request_id: "sealed-long-1" };
    const pending = post(`/api/v3/completions/${sessionId}`, request);
    const { cortensor: assignment } = await until(async () =>
      (await minerInbox("offchain")).flatMap((r) => Dispatch.safeParse(r.body).data ?? []).find((d) => d.cortensor.session_id === sessionId),
    );
    // Words, so the result looks like model output; over 200 KB in all.
    const result = "lorem ipsum dolor sit amet ".repeat(9_500).trim();
    expect(result.length).toBeGreaterThan(250_000);
    const delivered = await post("/api/v3/offchain/result", { session_id: sessionId, task_id: assignment.task_id, result }, assignment.token);
    expect(delivered.status).toBe(200);

    const res = await pending;
    expect(res.status).toBe(200);
    const body = Completion.parse(await res.json());
    expect(body.encrypted).toBe(true);
    expect(body.choices[0]?.text).toBe(result);
    // The task view of a private session shows no result; a replay reads the sealed record back.
    const replay = Completion.parse(await (await post(`/api/v3/completions/${sessionId}`, request)).json());
    expect(replay.choices[0]?.text).toBe(result);
  });

  it("encrypts and decrypts a 300 KB payload", async () => {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const plain = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 131) % 251);
    const sealed = await encryptPayload(key, plain, "s1/t2/result-0");
    expect(sealed.byteLength).toBe(12 + plain.byteLength + 16);
    expect(await decryptPayload(key, sealed, "s1/t2/result-0")).toEqual(plain);
    await expect(decryptPayload(key, sealed, "s1/t2/result-1")).rejects.toThrow();
  });

  it("seals a secret as v1.<iv>.<ciphertext> bound to its owner", async () => {
    const sealed = await seal("deployment secret", "miner-credential", "s3cret", "miner-a");
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9+/]{16}\.[A-Za-z0-9+/=]+$/);
    expect(await open("deployment secret", "miner-credential", sealed, "miner-a")).toBe("s3cret");
    await expect(open("deployment secret", "miner-credential", sealed, "miner-b")).rejects.toThrow();
    await expect(open("another secret", "miner-credential", sealed, "miner-a")).rejects.toThrow();
    await expect(open("deployment secret", "miner-credential", `${sealed}.x`, "miner-a")).rejects.toThrow();
  });

  // Written by the code before the shared HKDF and AEAD helpers: stored values must still open.
  it("opens values sealed by earlier versions", async () => {
    expect(await open("deployment secret", "miner-credential", "v1.AztjIWTctFFx76r/.Fw2MPf9ibjAimfqN095iuwm4jci7zw==", "miner-a")).toBe("s3cret");
    const key = await taskKey("master key for fixtures", 7, 3);
    expect(encodeBase64(key.buffer)).toBe("CfRNDbV0HpcG809p9/gV44o0lelktw0t7uVitzP8qZk=");
    const sealed = decodeBase64("WZ/Kqf5BoBYwuj+PFHSrkvOJ+PkWUG38GtIVdAWomO37Afm6BkCGkBZaZMPTUOpUCYyZdGtHqbuPPwROQg6m");
    expect(new TextDecoder().decode(await decryptPayload(key, sealed, "s7/t3/prompt-0"))).toBe("a prompt sealed before the refactor");
  });
});
