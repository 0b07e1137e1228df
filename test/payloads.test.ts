import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { issueAssignmentToken } from "../domain/auth/assignment-token";
import { decodeBase64 } from "hono/utils/encode";
import { decryptPayload } from "../domain/crypto/payload-keys";
import { ApiError } from "../domain/errors";
import { formatUrn, parseUrn } from "../domain/payloads/urn";
import { KEY_BLOCK } from "../durable-objects/session/task-payloads";
import { call, createSession, minerInbox, minersFor, until } from "./helpers";
import { TEST_PAYLOAD_MASTER_KEY } from "./keys";

type Completion = {
  session_id: number;
  task_id: number;
  choices: { text: string }[];
  prompt_urn: string;
  result_urn: string | null;
  encrypted: boolean;
};
type ErrorBody = { error: { code: string; message: string } };

const post = (path: string, json: unknown, key?: string | null) => call(path, { method: "POST", json, ...(key === undefined ? {} : { key }) });
const stubOf = (sessionId: number) => env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}`));
const objectOf = (urn: string) => parseUrn(urn).fileName;

describe("payload URNs", () => {
  it("parses and writes the seed's forms and the R2 form", () => {
    for (const urn of [
      "urn:blob:v1:s3:akamai:cortensor-payloads:prompts/abc.txt",
      "urn:blob:v2:s3:akamai:cortensor-payloads:abc",
      "urn:blob:v3:s3:akamai:2:cortensor-payloads:a/b/c-1.json",
      "urn:blob:v2:r2:cortensor-payloads:s1/t2/prompt-00ff",
      "urn:blob:v3:r2:0:cortensor-payloads:s1/t2/prompt-00ff",
    ]) {
      expect(formatUrn(parseUrn(urn))).toBe(urn);
    }
    expect(parseUrn("urn:blob:v3:r2:1:cortensor-archive:x")).toMatchObject({ version: "v3", store: "r2", backendIndex: 1, bucket: "cortensor-archive", fileName: "x" });
  });

  it("refuses every malformed URN with a 400", () => {
    for (const bad of [
      "",
      "urn:blob",
      "urn:blob:v9:r2:0:cortensor-payloads:x",
      "urn:file:v3:r2:0:cortensor-payloads:x",
      "urn:blob:v3:gcs:0:cortensor-payloads:x",
      "urn:blob:v3:r2:cortensor-payloads:x",
      "urn:blob:v3:r2:zero:cortensor-payloads:x",
      "urn:blob:v3:r2:0:cortensor-payloads:../../etc/passwd",
      "urn:blob:v3:r2:0:cortensor-payloads:a/../b",
      "urn:blob:v3:r2:0:cortensor-payloads:/absolute",
      "urn:blob:v3:r2:0:cortensor-payloads:a//b",
      "urn:blob:v3:r2:0:cortensor-payloads:",
      "urn:blob:v3:r2:0:Bad_Bucket:x",
      "urn:blob:v2:s3:akamai:cortensor-payloads",
      "urn:blob:v3:r2:0:cortensor-payloads:x:y",
      `urn:blob:v3:r2:0:cortensor-payloads:${"a".repeat(1100)}`,
    ]) {
      let thrown: unknown;
      try {
        parseUrn(bad);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, bad).toBeInstanceOf(ApiError);
      expect((thrown as ApiError).status).toBe(400);
      expect((thrown as ApiError).code).toBe("invalid_payload_urn");
    }
  });
});

describe("v2 and v3 completions", () => {
  it("stores the prompt in R2 and dispatches by URN (v2, session in the URL and in the body)", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const prompt = "What is Cortensor?";
    const res = await post(`/api/v2/completions/${sessionId}`, { prompt, max_tokens: 16, timeout: 30, precommit_timeout: 20 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Completion;
    expect(body.prompt_urn).toMatch(new RegExp(`^urn:blob:v2:r2:cortensor-payloads:s${sessionId}/t0/prompt-[0-9a-f]{32}$`));
    expect(body.result_urn).toMatch(/^urn:blob:v2:r2:cortensor-payloads:/);
    expect(body.choices[0]!.text.length).toBeGreaterThan(0);

    expect(await (await env.PAYLOADS.get(objectOf(body.prompt_urn)))!.text()).toBe(prompt);
    expect(await (await env.PAYLOADS.get(objectOf(body.result_urn!)))!.text()).toBe(body.choices[0]!.text);
    const task = (await (await call(`/api/v1/tasks/${sessionId}/0`)).json()) as { prompt_urn: string; payload_version: string; request: Record<string, unknown> };
    expect(task).toMatchObject({ prompt_urn: body.prompt_urn, payload_version: "v2" });
    expect(task.request).not.toHaveProperty("prompt");

    const viaBody = await post("/api/v2/completions", { session_id: sessionId, prompt: "second" });
    expect(viaBody.status).toBe(200);
    expect(((await viaBody.json()) as Completion).task_id).toBe(1);
  });

  it("uses the v3 format with the backend index", async () => {
    const { model } = await minersFor(["fastB"]);
    const sessionId = await createSession({ model });
    const res = await post(`/api/v3/completions/${sessionId}`, { prompt: "v3 please", max_tokens: 160, temperature: 0.7, timeout: 180, precommit_timeout: 120, stream: false });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Completion;
    expect(body.prompt_urn).toMatch(/^urn:blob:v3:r2:0:cortensor-payloads:/);
    expect(body.encrypted).toBe(false);
  });

  it("a run of v3 tasks no miner serves: 503 each, nothing left in R2, and their keys reserved once", async () => {
    const sessionId = await createSession({ model: "v3-model-nobody-serves" });
    for (let i = 0; i < 3; i++) {
      const res = await post(`/api/v3/completions/${sessionId}`, { prompt: `nobody ${i}` });
      expect(res.status).toBe(503);
      expect(((await res.json()) as ErrorBody).error.code).toBe("no_miners_available");
    }
    expect((await env.PAYLOADS.list({ prefix: `s${sessionId}/` })).objects).toHaveLength(0);
    expect(((await (await call(`/api/v1/tasks/${sessionId}`)).json()) as { tasks: unknown[] }).tasks).toHaveLength(0);
    // One block of keys (task-payloads.ts `reserveKeys`): each discarded task gave its keys back with its id.
    const rows = await runInDurableObject(stubOf(sessionId), (_i, state) => state.storage.sql.exec("SELECT object_key FROM payloads").toArray());
    expect(rows).toHaveLength(2 * KEY_BLOCK);
  });

  it("refuses an oversized prompt with 413 before writing anything", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const res = await post(`/api/v3/completions/${sessionId}`, { prompt: "x".repeat(300_000) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as ErrorBody).error.code).toBe("payload_too_large");
    expect(((await (await call(`/api/v1/tasks/${sessionId}`)).json()) as { tasks: unknown[] }).tasks).toHaveLength(0);
    expect((await env.PAYLOADS.list({ prefix: `s${sessionId}/` })).objects).toHaveLength(0);
  });
});

describe("miners and off-chain payloads", () => {
  it("lets an assigned miner read its payload (and no other) and deliver its result off-chain", async () => {
    const { model, ids } = await minersFor(["offchain"], { offchain: true });
    const sessionId = await createSession({ model });
    const first = post(`/api/v3/completions/${sessionId}`, { prompt: "first secret prompt", timeout: 20, precommit_timeout: 15 });
    const second = post(`/api/v3/completions/${sessionId}`, { prompt: "second secret prompt", timeout: 20, precommit_timeout: 15 });

    type Dispatch = { prompt: string; cortensor: { task_id: number; token: string; prompt_urn: string; payload_url: string; result_url: string } };
    // The dispatches reach the dev miner (another process) while both requests are still open: poll its inbox.
    const dispatched = await until(async () => {
      const inbox = (await minerInbox("offchain")).map((r) => r.body as unknown as Dispatch).filter((b) => b.cortensor?.payload_url?.includes(`s${sessionId}%2F`));
      return inbox.length === 2 ? inbox.sort((a, b) => a.cortensor.task_id - b.cortensor.task_id) : undefined;
    });
    const [a, b] = dispatched as [Dispatch, Dispatch];
    expect(a.prompt).toBe(a.cortensor.prompt_urn);
    const path = (d: Dispatch, urn = d.cortensor.prompt_urn) => `/api/v3/offchain/payload?urn=${encodeURIComponent(urn)}`;

    const own = await call(path(a), { key: a.cortensor.token });
    expect(own.status).toBe(200);
    expect(await own.text()).toBe("first secret prompt");
    const other = await call(path(a, b.cortensor.prompt_urn), { key: a.cortensor.token });
    expect(other.status).toBe(403);
    expect(((await other.json()) as ErrorBody).error.code).toBe("payload_access_denied");
    expect((await call(path(a), { key: null })).status).toBe(401);
    expect((await call(path(a), { key: "at1.forged.token" })).status).toBe(401);
    // The real token with anything appended is not a token.
    expect((await call(path(a), { key: `${a.cortensor.token}.${a.cortensor.token.split(".")[1]}` })).status).toBe(401);

    const wrongTask = await post("/api/v3/offchain/result", { session_id: sessionId, task_id: b.cortensor.task_id, result: "x" }, a.cortensor.token);
    expect(wrongTask.status).toBe(403);

    const delivered = await post("/api/v3/offchain/result", { session_id: sessionId, task_id: a.cortensor.task_id, result: "Delivered off chain." }, a.cortensor.token);
    expect(delivered.status).toBe(200);
    const receipt = (await delivered.json()) as { urn: string; sha256: string };
    expect(receipt.urn).toMatch(/^urn:blob:v3:r2:0:cortensor-payloads:/);
    const again = await post("/api/v3/offchain/result", { session_id: sessionId, task_id: a.cortensor.task_id, result: "twice" }, a.cortensor.token);
    expect(again.status).toBe(409);

    const answer = (await (await first).json()) as Completion & { miners: { miner: string; precommit_hash: string }[] };
    expect(answer.choices[0]!.text).toBe("Delivered off chain.");
    expect(answer.miners[0]).toMatchObject({ miner: ids.offchain, precommit_hash: receipt.sha256 });
    const task = (await (await call(`/api/v1/tasks/${sessionId}/${a.cortensor.task_id}`)).json()) as { assignments: { result_urn: string }[] };
    expect(task.assignments[0]!.result_urn).toBe(receipt.urn);
    // Once the task ended, its token reads nothing.
    expect((await call(path(a), { key: a.cortensor.token })).status).toBe(403);

    await post("/api/v3/offchain/result", { session_id: sessionId, task_id: b.cortensor.task_id, result: "Second." }, b.cortensor.token);
    expect(((await (await second).json()) as Completion).choices[0]!.text).toBe("Second.");
  });

  it("records a late off-chain result after the majority decided", async () => {
    const { model } = await minersFor(["fastA", "fastB"]);
    const { ids } = await minersFor(["offchain"], { model, offchain: true });
    const sessionId = await createSession({ model, redundancy: 3 });
    const body = (await (await post(`/api/v3/completions/${sessionId}`, { prompt: "late but counted", timeout: 20, precommit_timeout: 15 })).json()) as Completion & {
      miners: { miner: string; status: string }[];
    };
    expect(body.miners.find((m) => m.miner === ids.offchain)!.status).toBe("pending");
    type Dispatch = { cortensor: { task_id: number; token: string; prompt_urn: string } };
    // The off-chain miner got its dispatch in another process, without answering: poll its inbox.
    const mine = await until(async () => (await minerInbox("offchain")).map((r) => r.body as unknown as Dispatch).find((b) => b.cortensor?.prompt_urn === body.prompt_urn));
    const read = await call(`/api/v3/offchain/payload?urn=${encodeURIComponent(mine.cortensor.prompt_urn)}`, { key: mine.cortensor.token });
    expect(await read.text()).toBe("late but counted");
    const delivered = await post("/api/v3/offchain/result", { session_id: sessionId, task_id: body.task_id, result: body.choices[0]!.text }, mine.cortensor.token);
    expect(delivered.status).toBe(200);
    // The Session judges the late result after accepting the delivery: poll the task's record.
    const late = await until(async () => {
      const task = (await (await call(`/api/v1/tasks/${sessionId}/${body.task_id}`)).json()) as {
        assignments: { miner: string; late: boolean; agreed: boolean | null; result_urn: string | null }[];
      };
      return task.assignments.find((a) => a.miner === ids.offchain && a.late);
    });
    expect(late).toMatchObject({ agreed: true, result_urn: ((await delivered.json()) as { urn: string }).urn });
  });

  it("answers 400 for malformed URNs, unknown backends and buckets on the payload route", async () => {
    const token = await issueAssignmentToken(TEST_PAYLOAD_MASTER_KEY, { s: 1, t: 0, m: "m", exp: Date.now() + 60_000 });
    for (const [urn, code] of [
      ["urn:blob:v3:r2:0:cortensor-payloads:../secret", "invalid_payload_urn"],
      ["not-a-urn", "invalid_payload_urn"],
      ["urn:blob:v3:r2:7:cortensor-payloads:s1/t0/prompt-x", "unknown_payload_backend"],
      ["urn:blob:v3:r2:0:cortensor-archive:s1/t0/prompt-x", "unknown_payload_backend"],
      ["urn:blob:v2:s3:akamai:nobody-bucket:x", "unknown_payload_backend"],
    ] as const) {
      const res = await call(`/api/v3/offchain/payload?urn=${encodeURIComponent(urn)}`, { key: token });
      expect(res.status, urn).toBe(400);
      expect(((await res.json()) as ErrorBody).error.code, urn).toBe(code);
    }
  });
});

describe("private sessions", () => {
  const owner = privateKeyToAccount(generatePrivateKey());
  const reader = privateKeyToAccount(generatePrivateKey());
  const stranger = privateKeyToAccount(generatePrivateKey());

  async function privateTask() {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model, private: true, owner: owner.address, payload_readers: [reader.address] });
    const prompt = "my confidential prompt about widgets";
    const res = await post(`/api/v3/completions/${sessionId}`, { prompt, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    return { sessionId, prompt, body: (await res.json()) as Completion };
  }

  const keyFor = async (scope: "session" | "task", account: typeof owner, sessionId: number, message: string, taskId?: number) =>
    post(
      `/api/v1/auth/payload_enc_key/${scope}`,
      {
        address: account.address,
        session_id: sessionId,
        ...(taskId === undefined ? {} : { task_id: taskId }),
        signature: await account.signMessage({ message }),
      },
      null,
    );

  it("stores only ciphertext, readable with the issued key", async () => {
    const { sessionId, prompt, body } = await privateTask();
    expect(body.encrypted).toBe(true);
    const object = await env.PAYLOADS.get(objectOf(body.prompt_urn));
    const sealed = new Uint8Array(await object!.arrayBuffer());
    expect(new TextDecoder().decode(sealed)).not.toContain("confidential");

    const res = await keyFor("task", owner, sessionId, `${sessionId}:${body.task_id}`, body.task_id);
    expect(res.status).toBe(200);
    const { key, algorithm } = (await res.json()) as { key: string; algorithm: string };
    expect(algorithm).toBe("AES-256-GCM");
    const plain = await decryptPayload(decodeBase64(key), sealed, objectOf(body.prompt_urn));
    expect(new TextDecoder().decode(plain)).toBe(prompt);

    // Nor does the Session object keep outputs or results in plaintext.
    const stored = await runInDurableObject(stubOf(sessionId), (_i, state) =>
      state.storage.sql
        .exec<{ result: string; output: string | null }>(
          "SELECT t.result AS result, a.output AS output FROM tasks t JOIN assignments a ON a.task_id = t.task_id WHERE t.task_id = ?",
          body.task_id,
        )
        .one(),
    );
    expect(stored.output).toBeNull();
    expect(stored.result.startsWith("enc:v1:")).toBe(true);
    expect(stored.result).not.toContain(body.choices[0]!.text.split(" ")[0]!);
  });

  it("issues the session key to the owner and to an allowed address; the task key derives from it", async () => {
    const { sessionId, body } = await privateTask();
    const fromOwner = (await (await keyFor("session", owner, sessionId, `${sessionId}`)).json()) as { key: string };
    const fromReader = await keyFor("session", reader, sessionId, `${sessionId}`);
    expect(fromReader.status).toBe(200);
    expect(((await fromReader.json()) as { key: string }).key).toBe(fromOwner.key);

    // HKDF(session key, "task:{id}") gives the task key, as documented.
    const material = await crypto.subtle.importKey("raw", decodeBase64(fromOwner.key), "HKDF", false, ["deriveBits"]);
    const derived = new Uint8Array(
      await crypto.subtle.deriveBits(
        { name: "HKDF", hash: "SHA-256", salt: new TextEncoder().encode("cortensor-payload-keys"), info: new TextEncoder().encode(`task:${body.task_id}`) },
        material,
        256,
      ),
    );
    const task = (await (await keyFor("task", reader, sessionId, `${sessionId}:${body.task_id}`, body.task_id)).json()) as { key: string };
    expect(decodeBase64(task.key)).toEqual(derived);
  });

  it("denies strangers, wrong-scope and malformed signatures", async () => {
    const { sessionId, body } = await privateTask();
    const denied = async (res: Response) => {
      expect(res.status).toBe(403);
      expect(((await res.json()) as ErrorBody).error.code).toBe("private_payload_denied");
    };
    await denied(await keyFor("session", stranger, sessionId, `${sessionId}`));
    // A task-scope signature replayed for the session scope, and for another task.
    const taskSig = await owner.signMessage({ message: `${sessionId}:${body.task_id}` });
    await denied(await post("/api/v1/auth/payload_enc_key/session", { address: owner.address, session_id: sessionId, signature: taskSig }, null));
    await denied(await post("/api/v1/auth/payload_enc_key/task", { address: owner.address, session_id: sessionId, task_id: body.task_id + 1, signature: taskSig }, null));
    // Someone else's signature under the owner's address, and garbage.
    const strangerSig = await stranger.signMessage({ message: `${sessionId}` });
    await denied(await post("/api/v1/auth/payload_enc_key/session", { address: owner.address, session_id: sessionId, signature: strangerSig }, null));
    await denied(await post("/api/v1/auth/payload_enc_key/session", { address: owner.address, session_id: sessionId, signature: "0x1234" }, null));
    // A task that does not exist, and a session that is not private.
    await denied(await keyFor("task", owner, sessionId, `${sessionId}:999`, 999));
    const { model } = await minersFor(["fastA"]);
    const publicSession = await createSession({ model, owner: owner.address });
    await denied(await keyFor("session", owner, publicSession, `${publicSession}`));
    // A malformed address is bad input.
    const bad = await post("/api/v1/auth/payload_enc_key/session", { address: "0xnope", session_id: sessionId, signature: taskSig }, null);
    expect(bad.status).toBe(400);
  });
});

describe("retention", () => {
  it("a v3 task's prompt and result expire the retention period after its end; the keys reserved for the next tasks, later", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const sentAt = Date.now();
    const body = (await (await post(`/api/v3/completions/${sessionId}`, { prompt: "kept a week", timeout: 30 })).json()) as Completion;
    const answeredAt = Date.now();
    const rows = await runInDurableObject(stubOf(sessionId), (_i, state) =>
      state.storage.sql.exec<{ object_key: string; task_id: number; expires_at: number }>("SELECT object_key, task_id, expires_at FROM payloads").toArray(),
    );
    const week = 604_800_000;
    const own = rows.filter((r) => r.task_id === body.task_id);
    // Its prompt and result, under its keys, written ahead with their rows: both now expire a week after its end.
    expect(own.map((r) => r.object_key).sort()).toEqual([objectOf(body.prompt_urn), objectOf(body.result_urn!)].sort());
    for (const r of own) {
      expect(r.expires_at).toBeGreaterThanOrEqual(sentAt + week);
      expect(r.expires_at).toBeLessThanOrEqual(answeredAt + week);
    }
    // The next tasks' keys (nothing written under them yet) expire, unused, a week after the task's deadline at the earliest.
    const ahead = rows.filter((r) => r.task_id !== body.task_id);
    expect(ahead.length).toBeGreaterThan(0);
    for (const r of ahead) expect(r.expires_at).toBeGreaterThanOrEqual(sentAt + 30_000 + week);
    expect((await env.PAYLOADS.list({ prefix: `s${sessionId}/` })).objects.map((o) => o.key).sort()).toEqual(own.map((r) => r.object_key).sort());
  });

  it("deletes an ended task's payloads once retention has passed", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const body = (await (await post(`/api/v2/completions/${sessionId}`, { prompt: "short-lived" })).json()) as Completion;
    expect(await env.PAYLOADS.head(objectOf(body.prompt_urn))).not.toBeNull();
    await runInDurableObject(stubOf(sessionId), async (_i, state) => {
      state.storage.sql.exec("UPDATE payloads SET expires_at = ?", Date.now() - 1);
      await state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(stubOf(sessionId));
    expect(await env.PAYLOADS.head(objectOf(body.prompt_urn))).toBeNull();
    expect(await env.PAYLOADS.head(objectOf(body.result_urn!))).toBeNull();
  });
});
