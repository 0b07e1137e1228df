/**
 * The bench's R2 served by a second workerd (scripts/bench/runtimes.ts,
 * `r2: "separate"`), run from Node (the `runtime` project): the built router
 * on Miniflare keeps its R2 binding, whose calls go to the R2 service's own
 * workerd. What must hold for the bench's figures to mean what they say: the
 * v3 route answers as before, its two objects are in the R2 service's
 * simulator (read back there), and the router's workerd keeps no R2 storage.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workerdBelow } from "../../scripts/bench/cpu.ts";
import { build, type Runtime, startMiniflare } from "../../scripts/bench/runtimes.ts";
import { freePort } from "../../scripts/ports.ts";
import { provision } from "../../scripts/provision.ts";
import { type DevMiner, startDevMiner } from "../../tools/dev-miner/server.ts";
import { DEV_ADMIN_TOKEN, DEV_ROUTER_TOKEN } from "../../domain/config/dev-credentials.ts";

const MINER_TOKEN = "r2-service-test-miner-token";
const SESSION = 0;

let miner: DevMiner;
let persistTo: string;
let runtime: Runtime | undefined;

beforeAll(async () => {
  build();
  persistTo = mkdtempSync(join(tmpdir(), "router-r2-service-"));
  miner = await startDevMiner({ name: "r2-service-miner", token: MINER_TOKEN, port: 0, models: ["*"], latencyMs: 0 });
  runtime = await startMiniflare({ port: await freePort(), persistTo, vars: { ENVIRONMENT: "development" }, r2: "separate" });
  await provision({
    origin: runtime.origin,
    adminKey: DEV_ADMIN_TOKEN,
    miners: [{ id: "r2-service-miner", url: miner.url, credential: MINER_TOKEN, models: ["r2-model"] }],
    sessions: [{ id: SESSION, name: "r2 service test", model: "r2-model", redundancy: 1 }],
  });
});

afterAll(async () => {
  await runtime?.stop();
  await miner?.close();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

describe("the bench's R2 service", () => {
  it("serves the router's v3 writes from its own workerd", async () => {
    const r2 = runtime?.r2;
    if (!runtime || !r2) throw new Error("no R2 service started");
    // Two workerd processes, one below each supervisor.
    const routerWorkerd = workerdBelow(runtime.pid);
    const r2Workerd = workerdBelow(r2.pid);
    expect(routerWorkerd.length).toBe(1);
    expect(r2Workerd.length).toBe(1);
    expect(r2Workerd).not.toContain(routerWorkerd[0]);

    const prompt = "stored in the other workerd";
    const res = await fetch(`${runtime.origin}/api/v3/completions/${SESSION}`, {
      method: "POST",
      headers: { authorization: `Bearer ${DEV_ROUTER_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt, max_tokens: 16 }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { task_id: number; choices: { text: string }[] };

    const listed = await fetch(`${r2.origin}/objects/cortensor-payloads?prefix=${encodeURIComponent(`s${SESSION}/t${body.task_id}/`)}`);
    expect(listed.status).toBe(200);
    const { keys } = (await listed.json()) as { keys: string[] };
    const promptKey = keys.find((k) => k.includes("/prompt-"));
    const resultKey = keys.find((k) => k.includes("/result-"));
    expect(keys).toHaveLength(2);
    const read = async (key: string | undefined) => {
      const object = await fetch(`${r2.origin}/object/cortensor-payloads/${key}`);
      expect(object.status).toBe(200);
      return { text: await object.text(), type: object.headers.get("content-type"), meta: JSON.parse(object.headers.get("x-custom-metadata") ?? "{}") };
    };
    expect(await read(promptKey)).toEqual({
      text: prompt,
      type: "text/plain; charset=utf-8",
      meta: { encryption: "none", session: String(SESSION), task: String(body.task_id) },
    });
    expect((await read(resultKey)).text).toBe(body.choices[0]?.text);

    // Nothing of R2 is kept by the router's own Miniflare (its Durable Objects are under persistTo/do).
    expect(existsSync(join(persistTo, "r2"))).toBe(false);
    expect(existsSync(join(persistTo, "r2-service", "r2"))).toBe(true);
  });
});
