/**
 * Attacks on claimable rewards (README "Claimable rewards"): a miner that
 * earned nothing, or earned without a proven address, tries to claim on
 * chain; a caller asks for claims with a bad address or a key without the
 * scope. Nothing is paid that the ledger did not credit to that address's
 * miner, and the ledger's and the chain's figures still agree.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type Address, type Hex, parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { rewardDistributorAbi, rewardTokenAbi } from "../../../contracts/artifacts";
import type { RewardTarget } from "../../../domain/config/config";
import { rewardsStub } from "../../../domain/objects/stubs";
import { WalletClaimsSchema } from "../../../domain/schemas/wallet-claims";
import { devChainClients } from "../../../tools/dev-chain/deploy";
import { chains } from "../../chain/chain-helpers";
import { admin, call, createSession, minersFor, until } from "../../helpers";
import { flushReports } from "../../report-flush";
import { account, available } from "../../wallet-accounts";

const BASE = "/neuroshard/api/v1/wallet/claims";

async function claimsOf(key: string) {
  const res = await call(BASE, { key });
  expect(res.status, await res.clone().text()).toBe(200);
  return WalletClaimsSchema.parse(await res.json());
}

describe("economy: claimable rewards", () => {
  it("a disagreeing miner and one without a proven address are posted nothing; claiming without a leaf of one's own reverts", async () => {
    const main = chains().main;
    const target: RewardTarget = {
      rpcUrl: main.url,
      chainId: main.chainId,
      distributorAddress: main.distributorAddress.toLowerCase() as Address,
      epochMs: 7 * 86_400_000,
      rpcTimeoutMs: 5_000,
    };
    // fastA honest with an address, fastB honest without one, `wrong` always outvoted, with an address.
    const { model, ids, keys } = await minersFor(["fastA", "fastB", "wrong"], { registered: ["fastA", "wrong"] });
    const accounts: Record<string, { id: string; key: string }> = {};
    for (const name of ["fastA", "fastB", "wrong"] as const) {
      accounts[name] = await account(0);
      expect((await admin(`/api/v1/admin/miners/${ids[name]}`, "PATCH", { payout_account: accounts[name].id })).status).toBe(200);
    }
    const sessionId = await createSession({ model, redundancy: 3 });
    for (const prompt of ["one", "two"]) {
      const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt, timeout: 20 } });
      expect(res.status, await res.clone().text()).toBe(200);
    }
    await flushReports(sessionId);
    await until(async () => (await available(accounts.fastB!.key)) > 0 && (await claimsOf(accounts.fastA!.key)).claims[0]?.earned_micros);

    const rewards = rewardsStub(env, target);
    await rewards.scheduleRewards(target);
    const closed = await rewards.closeRewardEpoch({ force: true });
    expect(closed.error).toBeNull();
    const epoch = BigInt(closed.posted?.epoch ?? 0);

    // fastB earned into its account's balance, but has no address: nothing of it is posted.
    expect((await claimsOf(accounts.fastB!.key)).claims).toEqual([]);
    const leaves = await rewards.rewardEpochEntries(Number(epoch));
    expect(leaves.map((l) => l.minerId)).not.toContain(ids.fastB);
    // `wrong` earned nothing: it has no leaf and no claim.
    const wrong = (await claimsOf(accounts.wrong!.key)).claims[0];
    expect(wrong).toMatchObject({ earned_micros: 0, posted_micros: 0, claim: null });
    expect(leaves.map((l) => l.minerId)).not.toContain(ids.wrong);

    // `wrong` tries fastA's proof, its amount, and a made-up amount with no proof: each reverts, nothing is minted.
    const a = (await claimsOf(accounts.fastA!.key)).claims[0]!;
    const funder = devChainClients(main.url, main.chainId, main.accounts[7] as Address);
    const wrongAccount = privateKeyToAccount(keys.wrong as Hex);
    await funder.confirm(await funder.wallet.sendTransaction({ to: wrongAccount.address, value: parseEther("1") }));
    const attacker = devChainClients(main.url, main.chainId, wrongAccount);
    for (const [amount, proof] of [
      [BigInt(a.claim!.cumulative_micros), a.claim!.proof],
      [1n, []],
      [0n, a.claim!.proof],
    ] as const) {
      await expect(
        attacker.wallet.writeContract({ address: main.distributorAddress, abi: rewardDistributorAbi, functionName: "claim", args: [epoch, amount, proof as Hex[]] }),
      ).rejects.toThrow(/invalid proof/);
    }
    // An epoch that was never posted has no root to prove against.
    await expect(
      attacker.wallet.writeContract({ address: main.distributorAddress, abi: rewardDistributorAbi, functionName: "claim", args: [epoch + 1000n, 1n, []] }),
    ).rejects.toThrow(/no such epoch/);
    expect(await attacker.publicClient.readContract({ address: main.tokenAddress, abi: rewardTokenAbi, functionName: "balanceOf", args: [wrongAccount.address] })).toBe(0n);

    const conservation = (await (await admin("/api/v1/admin/ledger/conservation", "GET")).json()) as { holds: boolean; claims: { holds: boolean; root_matches: boolean } };
    expect(conservation.claims).toMatchObject({ holds: true, root_matches: true });
  });

  it("a bad address is refused naming the field; a key without wallet:read is refused before anything is read", async () => {
    const who = await account(0);
    for (const address of ["0x12", "not-an-address", `0x${"g".repeat(40)}`]) {
      const res = await call(`${BASE}?address=${encodeURIComponent(address)}`, { key: who.key });
      expect(res.status, address).toBe(400);
      expect(((await res.json()) as { error: { details?: { field?: string } } }).error.details?.field, address).toBe("address");
    }
    const issued = await admin(`/v1/admin/customers/${who.id}/keys`, "POST", { scopes: ["completions"] });
    expect(issued.status).toBe(201);
    const res = await call(BASE, { key: ((await issued.json()) as { key: string }).key });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "SCOPE_MISSING" } });
  });
});
