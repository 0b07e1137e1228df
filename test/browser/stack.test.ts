/**
 * The browser tests' stack is the state of `npm run dev`: its miners and
 * sessions are there through the API the pages call, and a dev miner's faults
 * can be changed from a test (what a console test does to show a miner that
 * disagrees).
 */
import { afterEach, describe, expect, it } from "vitest";
import { api, DEV_ROUTER_TOKEN, setMinerBehaviour, stack } from "./stack.ts";

afterEach(async () => {
  await setMinerBehaviour("dev-miner-1", { wrongRate: 0 });
});

describe("the browser tests' stack", () => {
  it("has npm run dev's miners (its dev miners and the miner node that joined by itself), healthy, and its sessions", async () => {
    const miners = await api("/api/v1/miners", { key: DEV_ROUTER_TOKEN });
    expect(miners.status).toBe(200);
    const { miners: list } = (await miners.json()) as { miners: { id: string; healthy: boolean }[] };
    expect(list.map((m) => m.id).sort()).toEqual([...stack().miners.map((m) => m.name), stack().minerNode.id].sort());
    expect(list.every((m) => m.healthy)).toBe(true);
    for (const [id, redundancy] of [
      [0, 1],
      [1, 3],
      [2, 3],
    ] as const) {
      const session = await api(`/api/v1/sessions/${id}`, { key: DEV_ROUTER_TOKEN });
      expect(session.status, `session ${id}`).toBe(200);
      expect(await session.json(), `session ${id}`).toMatchObject({ redundancy });
    }
  });

  it("makes a dev miner answer wrong, and puts it back", async () => {
    expect(await setMinerBehaviour("dev-miner-1", { wrongRate: 1 })).toMatchObject({ wrongRate: 1 });
    expect(await setMinerBehaviour("dev-miner-1", { wrongRate: 0 })).toMatchObject({ wrongRate: 0 });
  });
});
