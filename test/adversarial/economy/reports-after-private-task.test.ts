import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { admin, call, createSession, minersFor } from "../../helpers";

/**
 * A private session stores its tasks' results sealed (not JSON): every report
 * that reads the sessions' tables must skip them, not fail on them. One ended
 * private task once made the NeuroShard metrics, Prometheus text and proofs
 * answer 500 (SQLite evaluates both sides of an AND, so a `json_valid` guard
 * did not keep `json_extract` off the sealed text).
 */

const PROMPT = "the vault combination is persimmon-77";
const Completion = z.object({ task_id: z.number(), choices: z.array(z.object({ text: z.string() })) });

describe("a private session's ended task leaves every report at 200", () => {
  it("answers status, health, metrics, Prometheus, peers, layers, network, proofs, training, admin and session metrics", async () => {
    const { model } = await minersFor(["fastA"]);
    const owner = privateKeyToAccount(generatePrivateKey());
    const sessionId = await createSession({ model, private: true, owner: owner.address });
    const done = await call(`/api/v3/completions/${sessionId}`, { method: "POST", json: { prompt: PROMPT } });
    expect(done.status).toBe(200);
    const output = Completion.parse(await done.json()).choices[0]?.text ?? "";
    expect(output.length).toBeGreaterThan(0);

    const routes = [
      "/neuroshard/api/v1/status",
      "/neuroshard/api/v1/health",
      "/neuroshard/api/v1/metrics",
      "/neuroshard/metrics",
      "/neuroshard/api/v1/peers",
      "/neuroshard/api/v1/layers",
      "/neuroshard/api/v1/network",
      "/neuroshard/api/v1/proofs",
      "/neuroshard/api/training/global",
      "/neuroshard/api/training/verify",
      `/api/v1/sessions/${sessionId}`,
      `/api/v1/tasks/${sessionId}`,
    ];
    for (const path of routes) {
      const res = await call(path);
      const text = await res.text();
      expect(res.status, `${path}: ${text.slice(0, 300)}`).toBe(200);
      expect(text, path).not.toContain("persimmon");
      expect(text, path).not.toContain(output);
    }
    for (const window of ["hour", "day"]) {
      const res = await admin(`/api/v1/admin/metrics?window=${window}`, "GET");
      const text = await res.text();
      expect(res.status, text.slice(0, 300)).toBe(200);
      expect(text).not.toContain("persimmon");
    }

    // The proof of the private task is listed, without an answer read from its sealed result.
    const proofs = z.object({ proofs: z.array(z.record(z.string(), z.unknown())) }).parse(await (await call("/neuroshard/api/v1/proofs?limit=100")).json());
    expect(proofs.proofs.length).toBeGreaterThan(0);
  });
});
