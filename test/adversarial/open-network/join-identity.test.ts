import { describe, expect, it } from "vitest";
import type { MinerPublic } from "../../../domain/schemas/miner";
import { addressProof, admin, call, fleet, uniq } from "../../helpers";
import { type ErrorBody, joinBody, joinOk, leaveBody, node, post } from "./join";

/**
 * One key, one miner: a second node started with a key that a live node
 * holds (another URL) is refused, an operator's registered address cannot be
 * taken by a join, and a node that left or lapsed may come back elsewhere.
 */
const listing = async () => ((await (await call("/api/v1/miners")).json()) as { miners: MinerPublic[] }).miners;

describe("join identity", () => {
  it("refuses a second node with the same key at another URL while the first's lease is live (409 address_taken)", async () => {
    const first = node("fastA");
    const joined = await joinOk(first);
    const second = { ...first, url: fleet().fastB.url, credential: fleet().fastB.token };
    const res = await post("/api/v1/miners/join", await joinBody(second));
    expect(res.status).toBe(409);
    expect(((await res.json()) as ErrorBody).error.code).toBe("address_taken");
    const mine = (await listing()).filter((m) => m.evm_address === first.address.toLowerCase());
    expect(mine).toEqual([expect.objectContaining({ id: joined.id, url: first.url })]);
  });

  it("lets a node that left come back at another URL: the same miner, moved", async () => {
    const first = node("fastA");
    const joined = await joinOk(first);
    expect((await post("/api/v1/miners/leave", await leaveBody(first))).status).toBe(200);
    const moved = { ...first, url: fleet().fastB.url, credential: fleet().fastB.token };
    const res = await post("/api/v1/miners/join", await joinBody(moved));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: string }).id).toBe(joined.id);
    expect((await listing()).find((m) => m.id === joined.id)).toMatchObject({ url: fleet().fastB.url, healthy: true });
  });

  it("refuses a join under an address an operator registered (409), at any URL", async () => {
    const n = node("fastC");
    const id = uniq("admin-held");
    const registered = await admin("/api/v1/admin/miners", "POST", {
      id,
      url: n.url,
      credential: n.credential,
      models: [n.model],
      evm_address: n.address,
      address_proof: await addressProof(n.key, n.url),
    });
    expect(registered.status).toBe(201);
    for (const url of [n.url, fleet().fastB.url]) {
      const res = await post("/api/v1/miners/join", await joinBody({ ...n, url }));
      expect(res.status, url).toBe(409);
    }
    expect((await listing()).find((m) => m.id === id)).toMatchObject({ source: "admin", lease_expires_at: null });
  });

  it("refuses an operator's registration under an address a joined miner holds", async () => {
    const n = node("fastA");
    await joinOk(n);
    const res = await admin("/api/v1/admin/miners", "POST", {
      url: fleet().fastB.url,
      credential: "x",
      evm_address: n.address,
      address_proof: await addressProof(n.key, fleet().fastB.url),
    });
    expect(res.status).toBe(409);
  });
});
