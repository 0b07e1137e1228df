import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { admin, call, fetchWorker, minersFor, uniq } from "./helpers";

/**
 * A wallet account addressed by an EVM address, as the seed's `send` writes
 * its `to` (`0xabcd…1234`): a miner's registered `evm_address` reaches its
 * payout account; an address a customer proved (its key signed this
 * router's challenge naming the account) reaches that customer. An address
 * nobody registered reaches no one, and a claim without the address's
 * signature captures nothing.
 */

const BASE = "/neuroshard/api/v1/wallet";
const UNIT = 1_000_000;
const MOVER = ["completions", "wallet:read", "wallet:move"];

type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };
type Sent = { transaction_id: string; from: string; to: string; to_account: string; amount: number; status: string };
type Challenge = { nonce: string; message: string; account: string; address: string };

async function account(balance = 10 * UNIT): Promise<{ id: string; key: string }> {
  const id = uniq("wa");
  expect((await admin("/v1/admin/customers", "POST", { id, name: id, balance_micros: balance })).status).toBe(201);
  const issued = await admin(`/v1/admin/customers/${id}/keys`, "POST", { scopes: MOVER, requests_per_minute: 100_000 });
  expect(issued.status).toBe(201);
  return { id, key: ((await issued.json()) as { key: string }).key };
}

const post = async (path: string, key: string, json: unknown) =>
  (
    await fetchWorker(
      new Request(`http://router.test${BASE}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify(json),
      }),
      { WALLET_MOVES_PER_MINUTE: "100000" },
    )
  ).response;
const available = async (key: string) => ((await (await call(`${BASE}/balance`, { key })).json()) as { balances: { available: number } }).balances.available;
const conserved = async () => ((await (await admin("/api/v1/admin/ledger/conservation", "GET")).json()) as { holds: boolean }).holds;

/** Proves `privateKey`'s address for `who`'s account: a challenge, signed. Answers the registration's response. */
async function proveAddress(who: { key: string }, privateKey: `0x${string}`, signer = privateKey) {
  const address = privateKeyToAccount(privateKey).address;
  const res = await post("/addresses/challenge", who.key, { address });
  expect(res.status).toBe(201);
  const challenge = (await res.json()) as Challenge;
  const signature = await privateKeyToAccount(signer).signMessage({ message: challenge.message });
  return { challenge, signature, response: await post("/addresses", who.key, { address, nonce: challenge.nonce, signature }) };
}

const randomKey = () => `0x${[...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, "0")).join("")}` as const;

describe("a send to an EVM address", () => {
  it("to a miner's registered evm_address reaches its payout account, whatever the address's case", async () => {
    const sender = await account();
    const payout = await account(0);
    const { ids, keys } = await minersFor(["fastA"], { registered: ["fastA"] });
    expect((await admin(`/api/v1/admin/miners/${ids.fastA}`, "PATCH", { payout_account: payout.id })).status).toBe(200);
    const address = privateKeyToAccount(keys.fastA!).address;

    for (const to of [address, address.toLowerCase()]) {
      const res = await post("/send", sender.key, { to, amount: 1.5, memo: "Payment for services" });
      expect(res.status, await res.clone().text()).toBe(200);
      expect((await res.json()) as Sent).toMatchObject({ from: sender.id, to, to_account: payout.id, amount: 1.5, status: "confirmed" });
    }
    expect(await available(payout.key)).toBe(3);
    expect(await available(sender.key)).toBe(7);
    expect(await conserved()).toBe(true);
  });

  it("to an address nobody registered, or a miner's without a payout account, is a 404 naming `to`; nothing moves", async () => {
    const sender = await account();
    const { keys } = await minersFor(["fastB"], { registered: ["fastB"] });
    for (const to of [privateKeyToAccount(randomKey()).address, privateKeyToAccount(keys.fastB!).address]) {
      const res = await post("/send", sender.key, { to, amount: 1 });
      expect(res.status).toBe(404);
      const body = (await res.json()) as ErrorBody;
      expect(body.error.code).toBe("ACCOUNT_NOT_FOUND");
      expect(body.error.details?.["field"]).toBe("to");
    }
    expect(await available(sender.key)).toBe(10);
    // A malformed address is no recipient at all: 400 naming `to`.
    const bad = await post("/send", sender.key, { to: "0xabcd...1234", amount: 1 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorBody).error.details?.["field"]).toBe("to");
  });

  it("to an address a customer proved for its account reaches that customer", async () => {
    const sender = await account();
    const holder = await account(0);
    const key = randomKey();
    const { response } = await proveAddress(holder, key);
    expect(response.status, await response.clone().text()).toBe(201);
    const address = privateKeyToAccount(key).address;
    expect(await response.json()).toMatchObject({ account: holder.id, address, addresses: [address] });

    const res = await post("/send", sender.key, { to: address, amount: 2, memo: "to an address" });
    expect(res.status).toBe(200);
    expect((await res.json()) as Sent).toMatchObject({ to: address, to_account: holder.id, status: "confirmed" });
    expect(await available(holder.key)).toBe(2);
    // Its own address is itself.
    const self = await post("/send", holder.key, { to: address, amount: 1 });
    expect(self.status).toBe(400);
    expect(((await self.json()) as ErrorBody).error.details?.["field"]).toBe("to");
    expect(await conserved()).toBe(true);
  });
});

describe("registering an address (adversarial)", () => {
  it("a claim without the address's signature, or with another account's proof, registers nothing and captures nothing", async () => {
    const holder = await account(0);
    const thief = await account(0);
    const sender = await account();
    const key = randomKey();
    const address = privateKeyToAccount(key).address;

    // Signed by the thief's own key, not the address's: refused, naming the signature.
    const forged = await proveAddress(thief, key, randomKey());
    expect(forged.response.status).toBe(400);
    expect(((await forged.response.json()) as ErrorBody).error.details?.["field"]).toBe("signature");

    // The holder proves it; the thief replays the holder's proof (its nonce is used, and it names the holder's account).
    const proven = await proveAddress(holder, key);
    expect(proven.response.status).toBe(201);
    const replay = await post("/addresses", thief.key, { address, nonce: proven.challenge.nonce, signature: proven.signature });
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as ErrorBody).error.details?.["field"]).toBe("nonce");

    // A proof signed for the holder's account, presented by the thief on a challenge of its own, does not verify.
    const theirs = (await (await post("/addresses/challenge", thief.key, { address })).json()) as Challenge;
    expect(theirs.account).toBe(thief.id);
    const wrongAccount = await privateKeyToAccount(key).signMessage({ message: theirs.message.replace(`account: ${thief.id}`, `account: ${holder.id}`) });
    const stolen = await post("/addresses", thief.key, { address, nonce: theirs.nonce, signature: wrongAccount });
    expect(stolen.status).toBe(400);

    // Even the address's own key may not move it to a second account while the first holds it.
    const twice = await proveAddress(thief, key);
    expect(twice.response.status).toBe(409);
    expect(((await twice.response.json()) as ErrorBody).error).toMatchObject({ code: "ADDRESS_TAKEN", details: { field: "address" } });

    const sent = await post("/send", sender.key, { to: address, amount: 1 });
    expect(((await sent.json()) as Sent).to_account).toBe(holder.id);
    expect(await available(thief.key)).toBe(0);
  });

  it("a miner's address is the miner's: a customer may not register it, nor a miner take a customer's", async () => {
    const customer = await account(0);
    const { keys } = await minersFor(["fastC"], { registered: ["fastC"] });
    const taken = await proveAddress(customer, keys.fastC!);
    expect(taken.response.status).toBe(409);

    const key = randomKey();
    expect((await proveAddress(customer, key)).response.status).toBe(201);
    const m = await admin("/api/v1/admin/miners/challenge", "POST", { url: "http://127.0.0.1:9/", evm_address: privateKeyToAccount(key).address });
    const challenge = (await m.json()) as { nonce: string; message: string };
    const signature = await privateKeyToAccount(key).signMessage({ message: challenge.message });
    const registered = await admin("/api/v1/admin/miners", "POST", {
      id: uniq("squatter"),
      url: "http://127.0.0.1:9/",
      credential: "x",
      evm_address: privateKeyToAccount(key).address,
      address_proof: { nonce: challenge.nonce, signature },
    });
    expect(registered.status).toBe(409);
  });

  it("needs wallet:move", async () => {
    const id = uniq("wa-read");
    expect((await admin("/v1/admin/customers", "POST", { id, name: id })).status).toBe(201);
    const { key } = (await (await admin(`/v1/admin/customers/${id}/keys`, "POST", {})).json()) as { key: string };
    const res = await post("/addresses/challenge", key, { address: privateKeyToAccount(randomKey()).address });
    expect(res.status).toBe(403);
  });
});
