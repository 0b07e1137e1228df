import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { admin, minersFor } from "./helpers";
import { account, available, conserved, type ErrorBody, post, proveAddress, randomKey, type Sent } from "./wallet-accounts";

/**
 * A wallet account addressed by an EVM address, as the seed's `send` writes
 * its `to` (`0xabcd…1234`): a miner's registered `evm_address` reaches its
 * payout account; an address a customer proved (its key signed this
 * router's challenge naming the account) reaches that customer. An address
 * nobody registered reaches no one, and a claim without the address's
 * signature captures nothing.
 */

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
