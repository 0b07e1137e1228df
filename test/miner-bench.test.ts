import { describe, expect, it } from "vitest";
import { admin, call, createSession, minersFor } from "./helpers";
import { MinerPublicSchema } from "../domain/schemas/miner";
import { CompletionResponseSchema } from "../domain/schemas/completion";

const minerOf = async (id: string) => {
  const list = (await (await call("/api/v1/miners")).json()) as { miners: unknown[] };
  return list.miners.map((m) => MinerPublicSchema.parse(m)).find((m) => m.id === id);
};

/** An operator's bench (PATCH benched): the miner gets no tasks until unbenched, whatever its health probes say. */
describe("benching a miner by hand", () => {
  it("keeps a benched miner out of sessions' pools through passing health checks, until unbenched", async () => {
    const { model, ids } = await minersFor(["fastA", "fastB"]);
    const benchedId = ids["fastA"] ?? "";
    const patched = await admin(`/api/v1/admin/miners/${benchedId}`, "PATCH", { benched: true });
    expect(patched.status).toBe(200);
    expect(MinerPublicSchema.parse(await patched.json())).toMatchObject({ id: benchedId, benched: true, healthy: true });

    expect((await admin("/api/v1/admin/miners/health-check", "POST")).status).toBe(200);
    expect(await minerOf(benchedId)).toMatchObject({ benched: true, healthy: true });

    const sessionId = await createSession({ model, redundancy: 1 });
    for (let i = 0; i < 4; i++) {
      const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: `bench run ${i}` } });
      expect(res.status).toBe(200);
      const body = CompletionResponseSchema.parse(await res.json());
      expect(body.miners.map((m) => m.miner)).toEqual([ids["fastB"]]);
    }

    const unbenched = await admin(`/api/v1/admin/miners/${benchedId}`, "PATCH", { benched: false });
    expect(MinerPublicSchema.parse(await unbenched.json())).toMatchObject({ benched: false });
  });

  it("refuses a bench that is not a boolean, naming the field", async () => {
    const { ids } = await minersFor(["fastC"]);
    const res = await admin(`/api/v1/admin/miners/${ids["fastC"]}`, "PATCH", { benched: "yes" });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain("benched");
  });
});
