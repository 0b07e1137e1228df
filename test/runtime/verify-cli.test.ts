/**
 * `npm run verify` as an operator runs it (the `runtime` project: Node, not
 * workerd): scripts/verify.ts as a child process, pinned by a router's
 * /.well-known/cortensor-router.json served over loopback, on receipts signed
 * here with the router's own code. The Worker's side of the anchor (the
 * routes, a real task's receipt) is test/adversarial/economy/forged-receipt.test.ts.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseVerifyArgs } from "../../scripts/verify-cli.ts";
import { UNPINNED } from "../../scripts/verify-pin.ts";
import { sha256Hex } from "../../domain/crypto/sha256.ts";
import type { ReceiptBody } from "../../domain/receipts/receipt-schema.ts";
import { routerAnchorOf } from "../../domain/receipts/router-anchor.ts";
import { signReceipt } from "../../domain/receipts/router-signer.ts";
import type { Address, Hex } from "viem";
import { receiptAnchorAbi } from "../../contracts/artifacts.ts";
import { merkleBatch, receiptLeaf } from "../../domain/receipts/anchor.ts";
import { deployContracts, devChainClients } from "../../tools/dev-chain/deploy.ts";
import { startDevChain } from "../../tools/dev-chain/server.ts";

const ROUTER_KEY = generatePrivateKey();
const router = privateKeyToAccount(ROUTER_KEY);
const run = promisify(execFile);

let dir: string;
let server: Server;
let routerUrl: string;

/** A one-miner receipt of a public session, as the router builds it. */
async function body(output: string, signer: string): Promise<ReceiptBody> {
  const hash = await sha256Hex(output);
  return {
    version: "cortensor-receipt/1",
    router: signer,
    session_id: 1,
    task_id: 0,
    request_hash: "0".repeat(64),
    private: false,
    outcome: "answered",
    issued_at: new Date(0).toISOString(),
    consensus: { redundancy: 1, quorum: 1, threshold: 0.9, embedding: "lexical", signatures: "off", agreed: 1 },
    miners: [
      {
        slot: 0,
        miner_id: "m1",
        address: null,
        status: "committed",
        fault: null,
        counted: true,
        precommit_hash: hash,
        precommitted_at: new Date(0).toISOString(),
        signature: null,
        signature_status: null,
        similarity: 1,
        agreed: true,
        output,
      },
    ],
    chosen: { slot: 0, output_hash: hash },
  };
}

function file(name: string, text: string) {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The CLI's exit code and what it printed. */
async function verify(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, ["scripts/verify.ts", ...args], { cwd: process.cwd() });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "verify-cli-"));
  server = createServer((req, res) => {
    if (req.url !== "/.well-known/cortensor-router.json") {
      res.writeHead(404).end();
      return;
    }
    const anchor = routerAnchorOf({ name: "test router", signerKey: ROUTER_KEY, chainId: null, base: routerUrl });
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(anchor));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  routerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe("npm run verify", () => {
  it("refuses to verify without a pinned router, and says how to pin", async () => {
    const receipt = file("good.json", JSON.stringify(await signReceipt(await body("the answer", router.address), router)));
    const out = await verify(receipt);
    expect(out.code).toBe(2);
    expect(out.stderr.trim()).toBe(UNPINNED);
    expect(out.stdout).toBe("");
  });

  it("passes a correct receipt with the pin fetched from the router's /.well-known/ document, or given", async () => {
    const receipt = file("good.json", JSON.stringify(await signReceipt(await body("the answer", router.address), router)));
    const fetched = await verify(receipt, "--router-url", routerUrl);
    expect(fetched.stdout).toContain("PASS  router-signature");
    expect(fetched.stdout).toContain("receipt verified");
    expect(fetched.code).toBe(0);
    expect((await verify(receipt, "--router", router.address)).code).toBe(0);
    // Both: they must name the same signer.
    const other = privateKeyToAccount(generatePrivateKey()).address;
    const disagree = await verify(receipt, "--router", other, "--router-url", routerUrl);
    expect(disagree.code).toBe(2);
    expect(disagree.stderr).toContain(`is not the signer ${routerUrl}/.well-known/cortensor-router.json publishes (${router.address})`);
  });

  it("fails outputs replaced and re-signed by a fresh key, marked unsigned", async () => {
    const forger = privateKeyToAccount(generatePrivateKey());
    const forged = file("forged.json", JSON.stringify(await signReceipt(await body("send it all to the forger", forger.address), forger)));
    const out = await verify(forged, "--router-url", routerUrl);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain(`FAIL  router-signature     signed by ${forger.address}, not by the expected router ${router.address}`);
    expect((await verify(forged)).code).toBe(2);
  });

  it("fails a receipt with a duplicated output key", async () => {
    const text = JSON.stringify(await signReceipt(await body("the answer", router.address), router));
    const doubled = file("doubled.json", text.replace('"miners":[{', '"miners":[{"output":"send it all to the forger",'));
    const out = await verify(doubled, "--router", router.address);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain('FAIL  format               key "output" appears more than once in receipt.miners[0]');
  });

  it("checks its arguments: one receipt, a pin that is an address or a URL fetched over https (plain http to this machine only)", () => {
    expect(parseVerifyArgs(["r.json"])).toEqual({ ok: false, message: UNPINNED });
    expect(parseVerifyArgs(["r.json", "--router", "0x12"])).toEqual({ ok: false, message: "--router 0x12: not a 0x-prefixed 20-byte address" });
    expect(parseVerifyArgs(["r.json", "--router-url", "http://router.example"])).toMatchObject({ ok: false, message: expect.stringContaining("must be https") });
    expect(parseVerifyArgs(["r.json", "--router-url", "not a url"])).toMatchObject({ ok: false, message: "--router-url not a url: not a URL" });
    expect(parseVerifyArgs(["a.json", "b.json", "--router", router.address])).toMatchObject({ ok: false, message: expect.stringContaining("usage:") });
    expect(parseVerifyArgs(["r.json", "--routr", router.address])).toMatchObject({ ok: false, message: expect.stringContaining("--routr") });
    expect(parseVerifyArgs(["r.json", "--router", router.address, "--rpc", "nope"])).toEqual({ ok: false, message: "--rpc nope: not a URL" });
    expect(parseVerifyArgs(["r.json", "--router", router.address, "--rpc", "http://127.0.0.1:8545", "--anchor-sender", "0x1"])).toEqual({
      ok: false,
      message: "--anchor-sender 0x1: not a 0x-prefixed 20-byte address",
    });
    expect(parseVerifyArgs(["r.json", "--router-url", "https://router.example", "--output", "0=a.txt", "--answer", "x.txt"])).toEqual({
      ok: true,
      args: { file: "r.json", outputs: ["0=a.txt"], answer: "x.txt", router: undefined, routerUrl: "https://router.example" },
    });
  });

  it("--rpc checks a receipt's anchor on a real chain: included under a root the router's account posted; a changed byte, a pending anchor or another sender fails", async () => {
    const chain = await startDevChain({ chainId: 31999 });
    try {
      const [deployer, routerAccount, stranger] = chain.accounts as [Address, Address, Address];
      const { anchorAddress } = await deployContracts(chain.url, 31999, deployer);
      const signed = await signReceipt(await body("anchored answer", router.address), router);
      const other = await signReceipt(await body("another answer", router.address), router);
      const leaves = [await receiptLeaf(signed), await receiptLeaf(other)];
      const { root, proofs } = merkleBatch(leaves);
      const asRouter = devChainClients(chain.url, 31999, routerAccount);
      const tx = await asRouter.wallet.writeContract({ address: anchorAddress, abi: receiptAnchorAbi, functionName: "anchor", args: [1n, root, 2n] });
      await asRouter.confirm(tx);
      const anchor = { status: "anchored", chain_id: 31999, contract: anchorAddress, batch: 1, root, leaf: leaves[0], proof: proofs.get(leaves[0] as Hex), transaction: tx };
      const good = file("anchored.json", JSON.stringify({ ...signed, anchor }));

      const ok = await verify(good, "--router", router.address, "--rpc", chain.url, "--anchor-sender", routerAccount);
      expect(ok.stdout).toContain("PASS  anchor-proof");
      expect(ok.stdout).toContain(`PASS  anchor-onchain       root posted by ${routerAccount} as batch 1 of 2 receipts`);
      expect(ok.code, ok.stdout).toBe(0);

      const changed = file("changed.json", JSON.stringify({ ...signed, issued_at: new Date(1).toISOString(), anchor }));
      const bad = await verify(changed, "--router", router.address, "--rpc", chain.url, "--anchor-sender", routerAccount);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain("FAIL  anchor-leaf");
      expect(bad.stdout).toContain("FAIL  anchor-proof");

      const notOurs = await verify(good, "--router", router.address, "--rpc", chain.url, "--anchor-sender", stranger);
      expect(notOurs.code).toBe(1);
      expect(notOurs.stdout).toContain(`not by the router's published account ${stranger}`);

      const pending = file("pending.json", JSON.stringify({ ...signed, anchor: { status: "pending" } }));
      const notYet = await verify(pending, "--router", router.address, "--rpc", chain.url, "--anchor-sender", routerAccount);
      expect(notYet.code).toBe(1);
      expect(notYet.stdout).toContain("FAIL  anchor               not anchored yet");
    } finally {
      await chain.close();
    }
  });
});
