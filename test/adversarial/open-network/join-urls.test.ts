import { account, proveAddress } from "../../wallet-accounts";
import { describe, expect, it } from "vitest";
import type { MinerPublic } from "../../../domain/schemas/miner";
import { call } from "../../helpers";
import { type ErrorBody, joinBody, node, post } from "./join";

/**
 * What a joining node's URL and stake must be: reachable and speaking the
 * protocol it names (the router probes it first, with the credential it
 * sent), public in production (the private-address guard), and backed by
 * MINER_JOIN_MIN_STAKE, which a production configuration must declare.
 */
const PRODUCTION = { ENVIRONMENT: "production", MINER_JOIN_MIN_STAKE: "0" };
const listing = async () => ((await (await call("/api/v1/miners")).json()) as { miners: MinerPublic[] }).miners;
const errorOf = async (res: Response) => ((await res.json()) as ErrorBody).error;

describe("join URL probe", () => {
  it("refuses an unreachable URL (422 probe_failed) and admits nothing", async () => {
    const n = { ...node("fastA"), url: "http://127.0.0.1:1" };
    const res = await post("/api/v1/miners/join", await joinBody(n));
    expect(res.status).toBe(422);
    expect((await errorOf(res)).code).toBe("probe_failed");
    expect((await listing()).some((m) => m.evm_address === n.address.toLowerCase())).toBe(false);
  });

  it("refuses a node that does not speak the protocol it names, or does not take the credential it sent", async () => {
    const wrongProtocol = await post("/api/v1/miners/join", await joinBody({ ...node("fastA"), protocol: "neuroshard" }));
    expect(wrongProtocol.status).toBe(422);
    const wrongCredential = await post("/api/v1/miners/join", await joinBody({ ...node("fastA"), credential: "not-the-node-credential" }));
    expect(wrongCredential.status).toBe(422);
    expect((await errorOf(wrongCredential)).message).toContain("401");
  });
});

describe("join URLs in production", () => {
  it("refuses loopback, private, link-local and local-name URLs (400 private_address)", async () => {
    for (const url of ["http://127.0.0.1:8080", "http://10.1.2.3", "http://169.254.169.254/latest", "http://[::1]:80", "http://localhost:9000", "http://miner.internal"]) {
      const res = await post("/api/v1/miners/join", await joinBody({ ...node("fastA"), url }), { vars: PRODUCTION });
      expect(res.status, url).toBe(400);
      const error = await errorOf(res);
      expect(error.code, url).toBe("private_address");
      expect(error.details!.issues!.map((i) => i.field)).toEqual(["url"]);
    }
  });

  it("takes no joins when MINER_JOIN_MIN_STAKE is not declared (403 joins_closed)", async () => {
    const res = await post("/api/v1/miners/join", await joinBody({ ...node("fastA"), url: "http://93.184.215.14:8080" }), { vars: { ENVIRONMENT: "production" } });
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe("joins_closed");
  });
});

describe("join stake", () => {
  it("refuses an address whose account has less than MINER_JOIN_MIN_STAKE locked (403), and admits it once staked", async () => {
    const vars = { MINER_JOIN_MIN_STAKE: "2000000" };
    const n = node("fastB");
    const refused = await post("/api/v1/miners/join", await joinBody(n), { vars });
    expect(refused.status).toBe(403);
    expect(await errorOf(refused)).toMatchObject({ code: "insufficient_stake", details: { staked_micros: 0, required_micros: 2_000_000 } });
    // The operator's wallet account proves the node's address (EIP-191 over the router's challenge) and stakes 5.0 for 30 days.
    const operator = await account();
    expect((await proveAddress(operator, n.key)).response.status).toBe(201);
    expect((await errorOf(await post("/api/v1/miners/join", await joinBody(n), { vars }))).details).toMatchObject({ staked_micros: 0 });
    const staked = await call("/neuroshard/api/v1/wallet/stake", { method: "POST", key: operator.key, json: { amount: 5, duration_days: 30 } });
    expect(staked.status, await staked.clone().text()).toBe(200);
    const res = await post("/api/v1/miners/join", await joinBody(n), { vars });
    expect(res.status, await res.clone().text()).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect((await listing()).find((m) => m.id === id)).toMatchObject({ payout_account: operator.id, source: "joined" });
  });
});
