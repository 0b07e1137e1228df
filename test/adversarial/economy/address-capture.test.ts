import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { admin, minersFor, uniq } from "../../helpers";
import { account, available, type Challenge, type ErrorBody, post, proveAddress, randomKey, type Sent } from "../../wallet-accounts";

/**
 * Capturing someone's transfers by claiming their address. A wallet `send`
 * to `0x…` reaches whoever holds that address here (test/wallet-addresses.test.ts):
 * a claim must carry the address's own signature over this router's
 * single-use challenge naming the claiming account, and an address is one
 * holder's, miner or customer.
 */
describe("capturing transfers by claiming an address", () => {
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
