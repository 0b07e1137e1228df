import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { admin, call, createSession, minersFor } from "../helpers";

/**
 * A private session's router keeps and shows no plaintext: not in the
 * Session object's tables, not in the task views a router key reads. Only
 * the requester's own answer and the payload key routes (owner and readers)
 * ever carry it.
 */

const stubOf = (sessionId: number) => env.SESSIONS.get(env.SESSIONS.idFromName(`session:${sessionId}`));
const post = (path: string, json: unknown) => call(path, { method: "POST", json });
const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
const Completion = z.object({ task_id: z.number(), choices: z.array(z.object({ text: z.string() })), result_urn: z.string().nullable(), prompt_urn: z.string() });
const TaskList = z.object({ tasks: z.array(z.unknown()) });

const PROMPT = "the launch code is tangerine-42";

/** Every row the Session object keeps about its tasks, as one string. */
const storedRows = (sessionId: number) =>
  runInDurableObject(stubOf(sessionId), (_instance, state) =>
    JSON.stringify(["tasks", "assignments", "task_events"].map((table) => state.storage.sql.exec(`SELECT * FROM ${table}`).toArray())),
  );

async function privateSession(fleet: Parameters<typeof minersFor>[0] = ["fastA"], fields: Record<string, unknown> = {}) {
  const { model } = await minersFor(fleet);
  const owner = privateKeyToAccount(generatePrivateKey());
  return createSession({ model, private: true, owner: owner.address, ...fields });
}

describe("private sessions keep no plaintext", () => {
  it("refuses v1 completions, which would carry the prompt in the clear, and stores nothing", async () => {
    const sessionId = await privateSession();
    for (const path of [`/api/v1/completions/${sessionId}`, "/api/v1/completions"]) {
      const res = await post(path, { prompt: PROMPT, session_id: sessionId });
      expect(res.status, path).toBe(409);
      expect(ErrorBody.parse(await res.json()).error.code).toBe("private_session_requires_offchain");
    }
    expect(TaskList.parse(await (await call(`/api/v1/tasks/${sessionId}`)).json()).tasks).toHaveLength(0);
  });

  it("refuses delegate, validate and factcheck, which run v1-style tasks", async () => {
    const sessionId = await privateSession();
    const claim = { type: "answer", description: "d", output: PROMPT };
    for (const [path, body] of [
      ["/api/v1/delegate", { session_id: sessionId, objective: PROMPT }],
      ["/api/v2/validate", { session_id: sessionId, claim, policy: { redundancy: 1 } }],
      ["/api/v1/factcheck", { session_id: sessionId, claim: { type: "fact", statement: PROMPT }, policy: { redundancy: 1 } }],
    ] as const) {
      const res = await post(path, body);
      expect(res.status, path).toBe(409);
      expect(ErrorBody.parse(await res.json()).error.code, path).toBe("private_session_requires_offchain");
    }
    expect(await storedRows(sessionId)).not.toContain("tangerine");
  });

  it("shows a private task to router keys as URNs and hashes only", async () => {
    const sessionId = await privateSession();
    const res = await post(`/api/v3/completions/${sessionId}`, { prompt: PROMPT });
    expect(res.status).toBe(200);
    const body = Completion.parse(await res.json());
    const output = body.choices[0]?.text ?? "";
    expect(output.length).toBeGreaterThan(0);

    const view = await call(`/api/v1/tasks/${sessionId}/${body.task_id}`);
    expect(view.status).toBe(200);
    const text = await view.text();
    const task = z
      .object({
        prompt_urn: z.string(),
        result_urn: z.string().nullable(),
        result: z.null(),
        request: z.record(z.string(), z.unknown()),
        assignments: z.array(z.object({ precommit_hash: z.string().nullable(), output: z.null() })),
      })
      .parse(JSON.parse(text));
    expect(task).toMatchObject({ prompt_urn: body.prompt_urn, result_urn: body.result_urn });
    expect(task.request).not.toHaveProperty("prompt");
    expect(task.assignments[0]?.precommit_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(text).not.toContain("tangerine");
    expect(text).not.toContain(output);
  });

  it("keeps neither the prompt nor any output in the Session object's tables", async () => {
    const sessionId = await privateSession(["fastA", "fastB", "fastC"], { redundancy: 3 });
    const body = Completion.parse(await (await post(`/api/v3/completions/${sessionId}`, { prompt: PROMPT, request_id: "private-rows-1" })).json());
    const rows = await storedRows(sessionId);
    expect(rows).not.toContain("tangerine");
    expect(rows).not.toContain(body.choices[0]?.text ?? "(none)");
  });

  it("hides what a session stored before it became private", async () => {
    const { model } = await minersFor(["fastA"]);
    const owner = privateKeyToAccount(generatePrivateKey());
    const sessionId = await createSession({ model, owner: owner.address });
    const body = Completion.omit({ prompt_urn: true, result_urn: true }).parse(await (await post(`/api/v1/completions/${sessionId}`, { prompt: PROMPT })).json());
    const made = await admin(`/api/v1/admin/sessions/${sessionId}`, "PATCH", { private: true });
    expect(made.status).toBe(200);
    const text = await (await call(`/api/v1/tasks/${sessionId}/${body.task_id}`)).text();
    expect(text).not.toContain("tangerine");
    expect(text).not.toContain(body.choices[0]?.text ?? "(none)");
  });
});
