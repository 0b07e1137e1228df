import { describe, expect, it } from "vitest";
import { admin, call, fleet, uniq } from "./helpers";

type Health = { healthy: boolean; checks: Record<string, string> };
const health = async () => {
  const res = await call("/neuroshard/api/v1/health", { key: null });
  return { status: res.status, body: (await res.json()) as Health };
};

// One file of its own: what it asserts is about every miner of the deployment.
describe("node health", () => {
  it("is unhealthy with no miner, and when every miner is benched; healthy again once one passes its check", async () => {
    const none = await health();
    expect(none).toEqual({ status: 503, body: { healthy: false, checks: { peers: "no miners registered", storage: "ok" } } });

    const id = uniq("ns-health");
    expect((await admin("/api/v1/admin/miners", "POST", { id, url: fleet().nsA.url, credential: fleet().nsA.token, protocol: "neuroshard", models: [uniq("m")] })).status).toBe(
      201,
    );
    expect((await health()).body).toEqual({ healthy: true, checks: { peers: "ok", storage: "ok" } });

    // A wrong credential: the node refuses the health check, and the miner is benched.
    expect((await admin(`/api/v1/admin/miners/${id}`, "PATCH", { credential: "not-the-token" })).status).toBe(200);
    await admin("/api/v1/admin/miners/health-check", "POST");
    expect(await health()).toEqual({ status: 503, body: { healthy: false, checks: { peers: "every miner benched (0 of 1 healthy)", storage: "ok" } } });
    expect(((await (await call("/neuroshard/api/v1/status", { key: null })).json()) as { status: string }).status).toBe("degraded");

    expect((await admin(`/api/v1/admin/miners/${id}`, "PATCH", { credential: fleet().nsA.token })).status).toBe(200);
    await admin("/api/v1/admin/miners/health-check", "POST");
    expect((await health()).status).toBe(200);
  });
});
