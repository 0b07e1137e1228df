import { describe, expect, it } from "vitest";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { call, createSession, minersFor, uniq } from "../../helpers";
import { freshIp, joinBody, node, post } from "./join";

/**
 * A flood of joins: counted per client IP (CF-Connecting-IP) before any
 * signature is checked or probe made, and per address after the signature;
 * what is over answers 429 with Retry-After, and the miners already serving
 * keep serving.
 */
describe("join flood", () => {
  it("throttles 200 joins at once from one IP (429, Retry-After) while an established miner keeps serving completions", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const ip = freshIp();
    // 200 well-formed joins, each under a key of its own, all from one client.
    const bodies = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const key = generatePrivateKey();
        return joinBody({ ...node("fastB"), key, address: privateKeyToAccount(key).address });
      }),
    );
    const [joins, completions] = await Promise.all([
      Promise.all(bodies.map((b) => post("/api/v1/miners/join", b, { ip }))),
      Promise.all(Array.from({ length: 5 }, (_, i) => call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: `during the flood ${i}` } }))),
    ]);
    const throttled = joins.filter((r) => r.status === 429);
    // The per-IP budget (MINER_JOINS_PER_IP_PER_MINUTE, 120 by default) and no more.
    expect(throttled).toHaveLength(80);
    expect(joins.filter((r) => r.status === 201)).toHaveLength(120);
    for (const r of throttled) expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await throttled[0]!.json()) as { error: { code: string } }).error.code).toBe("throttled");
    expect(completions.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    // Another client is not held to that IP's budget.
    expect((await post("/api/v1/miners/join", await joinBody(node("fastC")), { ip: freshIp() })).status).toBe(201);
  });

  it("throttles one address's joins across IPs once its own budget is spent", async () => {
    const n = node("fastC", { model: uniq("flood") });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await post("/api/v1/miners/join", await joinBody(n), { ip: freshIp() })).status);
    expect(statuses).toEqual([201, 200, 200, 200, 200, 200, 200, 200, 200, 200, 429, 429]);
  });
});
