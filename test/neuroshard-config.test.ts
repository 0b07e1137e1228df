import { describe, expect, it } from "vitest";
import { admin, call, createSession, minersFor } from "./helpers";
import { TEST_ROUTER_KEY } from "./keys";

const CONFIG = "/neuroshard/api/v1/config";
type NodeError = { error: { code: string; message: string; details?: Record<string, unknown> } };
type Config = { router: { default_timeout_s: number; max_timeout_s: number; trial: { max_tokens: number } } };
const config = async () => (await (await call(CONFIG)).json()) as Config;

// A file of its own: a PATCH changes the deployment's settings for every request after it.
describe("PATCH config", () => {
  it("needs the admin key", async () => {
    for (const key of [null, TEST_ROUTER_KEY]) {
      const res = await call(CONFIG, { method: "PATCH", key, json: { router: { default_timeout_s: 30 } } });
      expect(res.status).toBe(401);
      expect(((await res.json()) as NodeError).error.code).toBe("UNAUTHORIZED");
    }
    expect((await config()).router.default_timeout_s).toBe(60);
    // The seed's node settings are refused NOT_CONFIGURABLE to any key of the node's (test/neuroshard-one-token.test.ts), never to no key.
    const anonymous = await call(CONFIG, { method: "PATCH", key: null, json: { training: { batch_size: 16 } } });
    expect(anonymous.status).toBe(401);
    const routed = await call(CONFIG, { method: "PATCH", key: TEST_ROUTER_KEY, json: { training: { batch_size: 16 } } });
    expect(((await routed.json()) as NodeError).error.code).toBe("NOT_CONFIGURABLE");
  });

  it("refuses a bad or unknown setting, naming it, and keeps nothing", async () => {
    const cases: [unknown, string][] = [
      [{ router: { default_timeout_s: 1 } }, "router.default_timeout_s"],
      [{ router: { trial: { max_tokens: 0 } } }, "router.trial.max_tokens"],
      [{ router: { default_timeout_s: 900 } }, "router.default_timeout_s"],
    ];
    for (const [json, field] of cases) {
      const res = await admin(CONFIG, "PATCH", json);
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as NodeError;
      expect(error.code).toBe("INVALID_REQUEST");
      expect(error.details?.["field"]).toBe(field);
    }
    // The seed's own example: training is the miners', the router trains nothing, so there is no batch size to set; the refusal says so.
    const seed = await admin(CONFIG, "PATCH", { training: { batch_size: 16 } });
    expect(seed.status).toBe(400);
    const { error } = (await seed.json()) as NodeError;
    expect(error).toMatchObject({
      code: "NOT_CONFIGURABLE",
      details: { field: "training.batch_size", configurable: expect.arrayContaining(["router.default_timeout_s", "router.trial.max_tokens"]) },
    });
    expect(error.message).toContain("training is the NeuroShard miners'");
    expect(error.message).toContain("router.default_timeout_s");
    // A node setting beside a router one: nothing of the patch is kept.
    const mixed = await admin(CONFIG, "PATCH", { router: { default_timeout_s: 45 }, resources: { cpu_threads: 4 } });
    expect(mixed.status).toBe(400);
    expect(((await mixed.json()) as NodeError).error).toMatchObject({ code: "NOT_CONFIGURABLE", details: { field: "resources.cpu_threads" } });
    expect((await config()).router).toMatchObject({ default_timeout_s: 60, max_timeout_s: 600, trial: { max_tokens: 256 } });
  });

  it("answers updated and restart_required, and the next task runs on the new default timeout", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const res = await admin(CONFIG, "PATCH", { router: { default_timeout_s: 30, trial: { max_tokens: 128 } } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true, updated: ["router.default_timeout_s", "router.trial.max_tokens"], restart_required: false });
    expect((await config()).router).toMatchObject({ default_timeout_s: 30, trial: { max_tokens: 128 } });

    const done = (await (await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "on the new default" } })).json()) as { task_id: number };
    const task = (await (await call(`/api/v1/tasks/${sessionId}/${done.task_id}`)).json()) as { created_at: string; deadline_at: string };
    expect(Date.parse(task.deadline_at) - Date.parse(task.created_at)).toBe(30_000);
    expect(((await (await call("/api/v1/info")).json()) as { limits: { default_timeout_s: number } }).limits.default_timeout_s).toBe(30);
  });

  it("changes the consensus threshold the next task is judged by, and its receipt says so", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    expect((await admin(CONFIG, "PATCH", { router: { consensus: { similarity_threshold: 2 } } })).status).toBe(400);
    const res = await admin(CONFIG, "PATCH", { router: { consensus: { similarity_threshold: 0.75 } } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ updated: ["router.consensus.similarity_threshold"] });

    const done = (await (await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "judged at 0.75" } })).json()) as {
      task_id: number;
      consensus: { threshold: number };
    };
    expect(done.consensus.threshold).toBe(0.75);
    const receipt = (await (await call(`/api/v1/tasks/${sessionId}/${done.task_id}/receipt`)).json()) as { consensus: { threshold: number } };
    expect(receipt.consensus.threshold).toBe(0.75);
  });
});
