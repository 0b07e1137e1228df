import { describe, expect, it } from "vitest";
import type { MinerPublic } from "../../../domain/schemas/miner";
import { admin, call, createSession } from "../../helpers";
import { type ErrorBody, establish, joinBody, joinOk, node, post } from "./join";

/** An operator bans by address: the address's miners are benched at once, and it cannot join again until unbanned. */
const listing = async () => ((await (await call("/api/v1/miners")).json()) as { miners: MinerPublic[] }).miners;
const ask = async (model: string) => call(`/api/v1/completions/${await createSession({ model })}`, { method: "POST", json: { prompt: "hello", timeout: 10 } });

describe("banned addresses", () => {
  it("benches a joined miner at once and refuses its rejoin (403 address_banned) until unbanned", async () => {
    const n = node("fastA");
    const joined = await joinOk(n);
    await establish(joined.id);
    expect((await ask(n.model)).status).toBe(200);
    const ban = await admin("/api/v1/admin/miners/bans", "POST", { evm_address: n.address, reason: "lied about its results" });
    expect(ban.status).toBe(201);
    expect(await ban.json()).toMatchObject({ evm_address: n.address.toLowerCase(), reason: "lied about its results", benched: [joined.id] });
    expect((await listing()).find((m) => m.id === joined.id)).toMatchObject({ benched: true });
    expect((await ask(n.model)).status).not.toBe(200);
    for (let i = 0; i < 2; i++) {
      const res = await post("/api/v1/miners/join", await joinBody(n));
      expect(res.status).toBe(403);
      expect(((await res.json()) as ErrorBody).error.code).toBe("address_banned");
    }
    const bans = (await (await admin("/api/v1/admin/miners/bans", "GET")).json()) as { bans: { evm_address: string }[] };
    expect(bans.bans.map((b) => b.evm_address)).toContain(n.address.toLowerCase());
    expect((await admin(`/api/v1/admin/miners/bans/${n.address}`, "DELETE")).status).toBe(200);
    // Unbanned, it may join again; the bench is the operator's to lift.
    expect((await joinOk(n, { status: 200 })).id).toBe(joined.id);
    expect((await listing()).find((m) => m.id === joined.id)).toMatchObject({ benched: true });
    expect((await admin(`/api/v1/admin/miners/${joined.id}`, "PATCH", { benched: false })).status).toBe(200);
    expect((await ask(n.model)).status).toBe(200);
  });

  it("refuses an address banned before it ever joined", async () => {
    const n = node("fastB");
    expect((await admin("/api/v1/admin/miners/bans", "POST", { evm_address: n.address, reason: "known bad actor" })).status).toBe(201);
    const res = await post("/api/v1/miners/join", await joinBody(n));
    expect(res.status).toBe(403);
    expect((await listing()).some((m) => m.evm_address === n.address.toLowerCase())).toBe(false);
  });

  it("bans only with the admin key, and validates the address", async () => {
    const n = node("fastC");
    expect((await call("/api/v1/admin/miners/bans", { method: "POST", json: { evm_address: n.address, reason: "x" } })).status).toBe(401);
    const bad = await admin("/api/v1/admin/miners/bans", "POST", { evm_address: "0x123", reason: "x" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorBody).error.details!.issues!.map((i) => i.field)).toContain("evm_address");
    expect((await admin(`/api/v1/admin/miners/bans/${n.address}`, "DELETE")).status).toBe(404);
  });
});
