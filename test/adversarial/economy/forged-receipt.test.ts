import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { resolvePin, UNPINNED } from "../../../scripts/verify-pin.ts";
import { sha256Hex } from "../../../domain/crypto/sha256";
import { RouterAnchorSchema } from "../../../domain/receipts/router-anchor";
import { type Receipt, ReceiptSchema } from "../../../domain/receipts/receipt-schema";
import { signReceipt } from "../../../domain/receipts/router-signer";
import { verifyReceipt } from "../../../domain/receipts/verify-receipt";
import { call, createSession, minersFor, workerFetch } from "../../helpers";
import { TEST_ROUTER_SIGNER_KEY } from "../../keys";

const routerAddress = privateKeyToAccount(TEST_ROUTER_SIGNER_KEY).address;
const failing = (v: { checks: { name: string; result: string }[] }) => v.checks.filter((c) => c.result === "fail").map((c) => c.name);
const detailOf = (v: { checks: { name: string; detail: string }[] }, name: string) => v.checks.find((c) => c.name === name)?.detail ?? "";

/** A real task's receipt, as its JSON text: two signing miners under `require`, a public session (outputs in the receipt). */
async function realReceipt(): Promise<{ text: string; receipt: Receipt }> {
  const { model } = await minersFor(["signedA", "signedB"], { registered: ["signedA", "signedB"] });
  const sessionId = await createSession({ model, redundancy: 2, max_nodes: 2, signatures: "require", commit_policy: "all" });
  const done = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "what is owed to whom", timeout: 20 } });
  expect(done.status, await done.clone().text()).toBe(200);
  const { task_id } = (await done.json()) as { task_id: number };
  const res = await call(`/api/v1/tasks/${sessionId}/${task_id}/receipt`);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, receipt: ReceiptSchema.parse(JSON.parse(text)) };
}

/**
 * The forgery a verifier without a pin accepts: every output replaced (and
 * hashed, chosen and agreed consistently), the miners' signatures dropped,
 * and the whole re-signed by a fresh key the forged receipt names as its
 * router. `unsigned`: the miners are marked accepted-unsigned under policy
 * `prefer`, so no miner check stands in the way either.
 */
async function forge(receipt: Receipt, options: { unsigned: boolean }): Promise<{ forged: Receipt; forger: string }> {
  const forger = privateKeyToAccount(generatePrivateKey());
  const text = "send everything to the forger";
  const hash = await sha256Hex(text);
  const { router_signature: _, ...body } = structuredClone(receipt);
  body.router = forger.address;
  for (const m of body.miners.filter((x) => x.counted)) {
    m.output = text;
    m.precommit_hash = hash;
    m.similarity = 1;
    m.agreed = true;
    if (options.unsigned) {
      m.signature = null;
      m.signature_status = "unsigned";
    }
  }
  if (options.unsigned) body.consensus.signatures = "prefer";
  body.consensus.agreed = body.miners.filter((m) => m.counted).length;
  if (body.chosen) body.chosen.output_hash = hash;
  return { forged: await signReceipt(body, forger), forger: forger.address };
}

describe("forged receipts: the router's published signer is the anchor", () => {
  it("publishes its signer in /api/v1/about and /.well-known/cortensor-router.json, and declares both in the OpenAPI document", async () => {
    const about = await call("/api/v1/about", { key: null });
    expect(about.status).toBe(200);
    expect(await about.json()).toMatchObject({
      api_versions: ["v1", "v2", "v3"],
      openapi: "/openapi.json",
      docs: "/docs",
      receipt_signer: { address: routerAddress, scheme: "eip191:cortensor-receipt:v1", key: "configured" },
    });
    const known = await call("/.well-known/cortensor-router.json", { key: null });
    expect(known.status).toBe(200);
    const anchor = RouterAnchorSchema.parse(await known.json());
    expect(anchor).toEqual({
      name: expect.any(String),
      receipt_signer: { address: routerAddress, scheme: "eip191:cortensor-receipt:v1", key: "configured" },
      receipt_version: "cortensor-receipt/1",
      chain_id: Number(env.CHAIN_ID),
      about: "http://router.test/api/v1/about",
      // Where its receipts are anchored and by which chain account (test/chain/receipt-anchor.test.ts).
      receipt_anchor: { contract: String(env.CHAIN_ANCHOR_ADDRESS).toLowerCase(), sender: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/) },
    });
    const doc = (await (await call("/openapi.json", { key: null })).json()) as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    expect(doc.paths["/.well-known/cortensor-router.json"]).toBeDefined();
    expect(doc.components.schemas).toHaveProperty("RouterAnchor");
  });

  it("names the public dev key as such, so a verifier is warned that anyone can sign as it", async () => {
    const fetchDev = workerFetch({ ROUTER_SIGNER_KEY: undefined, ENVIRONMENT: "development" });
    const anchor = RouterAnchorSchema.parse(await (await fetchDev("http://router.test/.well-known/cortensor-router.json")).json());
    expect(anchor.receipt_signer.key).toBe("dev");
    const pin = await resolvePin({ routerUrl: "http://router.test" }, fetchDev);
    expect(pin).toMatchObject({ ok: true, address: anchor.receipt_signer.address, warning: expect.stringContaining("public dev key") });
  });

  it("a correct receipt passes against the signer pinned from the router's /.well-known/ document", async () => {
    const { text } = await realReceipt();
    const pin = await resolvePin({ routerUrl: "http://router.test" }, workerFetch());
    expect(pin).toEqual({ ok: true, address: routerAddress, warning: null, anchorSender: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/) });
    if (!pin.ok) return;
    const verdict = await verifyReceipt(text, { router: pin.address });
    expect(failing(verdict)).toEqual([]);
    expect(detailOf(verdict, "router-signature")).toContain("the pinned router");
  });

  it("with no pin, even a correct receipt is not verified, and says why", async () => {
    const { text } = await realReceipt();
    const verdict = await verifyReceipt(text);
    expect(verdict.ok).toBe(false);
    expect(failing(verdict)).toEqual(["router-signature"]);
    expect(detailOf(verdict, "router-signature")).toContain("no router address is pinned");
    // The CLI refuses before reading anything, with the same advice.
    expect(await resolvePin({})).toEqual({ ok: false, message: UNPINNED });
  });

  it("outputs replaced and re-signed by a fresh key fail, with the pin and without it", async () => {
    const { receipt } = await realReceipt();
    const { forged, forger } = await forge(receipt, { unsigned: false });
    // The miners' signatures no longer cover the outputs; and the router's is the forger's.
    const slots = receipt.miners.filter((m) => m.counted).map((m) => `miner-signature:${m.slot}`);
    expect(failing(await verifyReceipt(JSON.stringify(forged)))).toEqual(["router-signature", ...slots]);
    expect(failing(await verifyReceipt(JSON.stringify(forged), { router: routerAddress }))).toEqual(["router-signature", ...slots]);
    expect(detailOf(await verifyReceipt(forged, { router: routerAddress }), "router-signature")).toBe(`signed by ${forger}, not by the expected router ${routerAddress}`);
  });

  it("a forgery marked unsigned is stopped by the pin alone, and fails without one", async () => {
    const { receipt } = await realReceipt();
    const { forged, forger } = await forge(receipt, { unsigned: true });
    // Consistent in itself: checked against the address inside it, it would pass.
    expect(failing(await verifyReceipt(forged, { router: forger }))).toEqual([]);
    expect(failing(await verifyReceipt(forged))).toEqual(["router-signature"]);
    expect(failing(await verifyReceipt(forged, { router: routerAddress }))).toEqual(["router-signature"]);
    // A receipt whose router signature is stripped is not a receipt.
    const { router_signature: _, ...stripped } = forged;
    expect(failing(await verifyReceipt(stripped, { router: routerAddress }))).toEqual(["format"]);
  });

  it("a duplicated output key fails format, wherever it is, though each reading of it alone verifies", async () => {
    const { text, receipt } = await realReceipt();
    const slot = receipt.miners.findIndex((m) => m.counted);
    expect(slot).toBeGreaterThanOrEqual(0);
    // A first value for `output` in front of the real one: JSON.parse keeps the last, a first-wins parser reads the forgery.
    const marker = `"miners":[`;
    const at = text.indexOf(marker) + marker.length;
    const openings = [...text.slice(at).matchAll(/\{/g)];
    const open = at + (openings[0]?.index ?? 0) + 1;
    const doubled = `${text.slice(0, open)}"output":"send everything to the forger",${text.slice(open)}`;
    expect(JSON.parse(doubled)).toEqual(JSON.parse(text));
    expect(failing(await verifyReceipt(JSON.parse(doubled), { router: routerAddress }))).toEqual([]);

    const verdict = await verifyReceipt(doubled, { router: routerAddress });
    expect(failing(verdict)).toEqual(["format"]);
    expect(detailOf(verdict, "format")).toBe('key "output" appears more than once in receipt.miners[0]');
    // Anywhere: at the top, and spelled with an escape.
    const top = `{"version":"cortensor-receipt/0",${text.slice(1)}`;
    expect(detailOf(await verifyReceipt(top, { router: routerAddress }), "format")).toBe('key "version" appears more than once in receipt');
    const escaped = text.replace('"consensus":{', '"consensus":{"\\u0061greed":0,');
    expect(detailOf(await verifyReceipt(escaped, { router: routerAddress }), "format")).toBe('key "agreed" appears more than once in receipt.consensus');
  });
});
