/**
 * The miner node's side of the join protocol (issue 25's shared spec), from
 * Node: the node as a child process against a stand-in router written here
 * that follows the spec (its well-known signer, POST /api/v1/miners/join and
 * /leave verifying each signature over domain/miners/join-message.ts, a
 * probe of the node with the credential it was given). The router's own
 * route is exercised end to end by test/runtime/miner-node.test.ts
 * ("joining by itself"); this file pins what the node sends, when, and how
 * it reacts to a refusal, whatever state that route is in.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { rmSync } from "node:fs";
import { createHash } from "node:crypto";
import { type Hex, verifyMessage } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { joinMessage, leaveMessage } from "../../domain/miners/join-message.ts";
import { MinerJoinRequestSchema, MinerLeaveRequestSchema } from "../../domain/schemas/miner-join.ts";
import { minerFiles, startNode } from "./miner-node-process.ts";
import { type PlainUpstream, startPlainUpstream } from "./plain-upstream.ts";

type Seen = { path: string; body: Record<string, unknown>; verified: boolean; probe?: { withCredential: number; without: number } };

/** A router that follows the spec, as far as the node can see it. */
async function startStandInRouter(options: { signer: Hex; leaseSeconds: number; refuse?: { status: number; code: string } }) {
  const seen: Seen[] = [];
  const server: Server = createServer(async (req, res) => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET" && req.url === "/.well-known/cortensor-router.json") {
      return reply(200, { name: "stand-in", receipt_signer: { address: options.signer, scheme: "eip191:cortensor-receipt:v1", key: "configured" } });
    }
    const body = JSON.parse(raw || "{}") as Record<string, unknown>;
    if (req.url === "/api/v1/miners/join") {
      const join = MinerJoinRequestSchema.parse(body);
      const message = joinMessage({
        router: options.signer,
        url: join.url,
        address: join.evm_address,
        models: join.models,
        protocol: join.protocol,
        offchain: join.offchain,
        maxConcurrency: join.max_concurrency,
        credentialSha256: createHash("sha256").update(join.credential, "utf8").digest("hex"),
        nonce: join.nonce,
        issuedAt: join.issued_at,
      });
      const verified = await verifyMessage({ address: join.evm_address as Hex, message, signature: join.signature });
      // The router probes the URL with the credential it will present (GET /v1/models for openai).
      const probe = async (authorization?: string) => (await fetch(`${join.url}/v1/models`, { headers: authorization ? { authorization } : {} })).status;
      seen.push({ path: req.url, body, verified, probe: { withCredential: await probe(`Bearer ${join.credential}`), without: await probe() } });
      if (options.refuse) return reply(options.refuse.status, { error: { code: options.refuse.code, message: "refused by the stand-in" } });
      return reply(seen.filter((s) => s.path === req.url).length === 1 ? 201 : 200, {
        id: `joined-${join.evm_address.slice(2, 10)}`,
        evm_address: join.evm_address,
        lease_expires_at: new Date(Date.now() + options.leaseSeconds * 1000).toISOString(),
        lease_seconds: options.leaseSeconds,
        probation: { on_probation: true, agreeing_results_needed: 20 },
      });
    }
    if (req.url === "/api/v1/miners/leave") {
      const leave = MinerLeaveRequestSchema.parse(body);
      const message = leaveMessage({ router: options.signer, address: leave.evm_address, nonce: leave.nonce, issuedAt: leave.issued_at });
      seen.push({ path: req.url, body, verified: await verifyMessage({ address: leave.evm_address as Hex, message, signature: leave.signature }) });
      return reply(200, { left: true });
    }
    reply(404, { error: { code: "not_found", message: "no route" } });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

let upstream: PlainUpstream;
const ROUTER_SIGNER = privateKeyToAccount(generatePrivateKey()).address;
const until = async (probe: () => boolean, what: string, seconds = 20) => {
  const end = Date.now() + seconds * 1000;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`${what} not within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

beforeAll(async () => {
  upstream = await startPlainUpstream(["join-model"]);
});
afterAll(async () => {
  await upstream?.close();
});

describe("the miner node joining a router", () => {
  it("joins signed, renews every third of its lease with a fresh nonce, and leaves signed on SIGTERM, exiting 0", async () => {
    const router = await startStandInRouter({ signer: ROUTER_SIGNER, leaseSeconds: 3 });
    const files = minerFiles();
    const node = startNode([
      ...["--upstream", upstream.url, "--router", router.origin, "--key-file", files.keyFile, "--port", "0", "--models", "join-model,other-model"],
      ...["--max-concurrency", "3", "--offchain", "--router-signer", ROUTER_SIGNER],
    ]);
    const url = await node.url();
    // The join, then two renewals (a lease of 3 s: one a second).
    await until(() => router.seen.filter((s) => s.path === "/api/v1/miners/join").length >= 3, "two renewals");
    const joins = router.seen.filter((s) => s.path === "/api/v1/miners/join");
    for (const j of joins) {
      expect(j.verified).toBe(true);
      expect(j.body).toMatchObject({
        url,
        evm_address: files.address.toLowerCase(),
        models: ["join-model", "other-model"],
        protocol: "openai",
        offchain: true,
        max_concurrency: 3,
      });
      // The credential it sends is the one it answers to, and nothing else is.
      expect(j.probe).toEqual({ withCredential: 200, without: 401 });
    }
    expect(new Set(joins.map((j) => j.body["nonce"])).size).toBe(joins.length);
    expect(new Set(joins.map((j) => j.body["credential"])).size).toBe(1);
    expect(node.output()).toContain("on probation (20 agreeing results to go)");

    node.child.kill("SIGTERM");
    expect(await node.exited).toBe(0);
    const leaves = router.seen.filter((s) => s.path === "/api/v1/miners/leave");
    expect(leaves).toHaveLength(1);
    expect(leaves[0]).toMatchObject({ verified: true, body: { evm_address: files.address.toLowerCase() } });
    expect(node.output()).toContain(`left ${router.origin}`);
    expect(node.output().toLowerCase()).not.toContain(files.key.slice(2).toLowerCase());
    // Only its SHA-256 is signed; the credential itself is never printed either.
    expect(node.output()).not.toContain(String(joins[0]?.body["credential"]));
    await router.close();
    rmSync(files.dir, { recursive: true, force: true });
  });

  it("makes a fresh credential each start", async () => {
    const router = await startStandInRouter({ signer: ROUTER_SIGNER, leaseSeconds: 90 });
    const files = minerFiles();
    const credentials: unknown[] = [];
    for (let run = 0; run < 2; run++) {
      const node = startNode(["--upstream", upstream.url, "--router", router.origin, "--key-file", files.keyFile, "--port", "0", "--models", "join-model"]);
      await until(() => router.seen.filter((s) => s.path === "/api/v1/miners/join").length > run, "a join");
      node.child.kill("SIGINT");
      expect(await node.exited).toBe(0);
      credentials.push(router.seen.filter((s) => s.path === "/api/v1/miners/join")[run]?.body["credential"]);
    }
    expect(credentials[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(credentials[1]).toMatch(/^[0-9a-f]{64}$/);
    expect(credentials[0]).not.toBe(credentials[1]);
    await router.close();
    rmSync(files.dir, { recursive: true, force: true });
  });

  it("refuses to join a router that signs as another address than the pinned one", async () => {
    const router = await startStandInRouter({ signer: ROUTER_SIGNER, leaseSeconds: 90 });
    const files = minerFiles();
    const pinned = privateKeyToAccount(generatePrivateKey()).address;
    const node = startNode([
      "--upstream",
      upstream.url,
      "--router",
      router.origin,
      "--key-file",
      files.keyFile,
      "--port",
      "0",
      "--models",
      "join-model",
      "--router-signer",
      pinned,
    ]);
    expect(await node.exited).toBe(1);
    expect(node.output()).toContain(`signs as ${ROUTER_SIGNER}, not the pinned ${pinned}`);
    expect(router.seen).toEqual([]);
    await router.close();
    rmSync(files.dir, { recursive: true, force: true });
  });

  it("stops with the router's reason when its join is refused", async () => {
    const router = await startStandInRouter({ signer: ROUTER_SIGNER, leaseSeconds: 90, refuse: { status: 403, code: "address_banned" } });
    const files = minerFiles();
    const node = startNode(["--upstream", upstream.url, "--router", router.origin, "--key-file", files.keyFile, "--port", "0", "--models", "join-model"]);
    expect(await node.exited).toBe(1);
    expect(node.output()).toContain("POST /api/v1/miners/join answered 403 address_banned: refused by the stand-in");
    await router.close();
    rmSync(files.dir, { recursive: true, force: true });
  });
});
