/**
 * Attacks on claimable rewards (README "Claimable rewards"): a miner that
 * earned nothing, or earned without a proven address, tries to claim on
 * chain; a caller asks for claims with a bad address or a key without the
 * scope; a miner that claimed its earnings as tokens tries to spend them
 * again from its ledger balance. Nothing is paid that the ledger did not
 * credit to that address's miner, what settles on chain leaves the ledger,
 * and the ledger's and the chain's figures still agree.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type Address, type Hex, parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { rewardDistributorAbi, rewardTokenAbi } from "../../../contracts/artifacts";
import { rewardsStub } from "../../../domain/objects/stubs";
import { WalletClaimsSchema } from "../../../domain/schemas/wallet-claims";
import { ApiError } from "../../../domain/errors";
import { walletClaims } from "../../../workers/neuroshard/wallet-claims";
import { devChainClients } from "../../../tools/dev-chain/deploy";
import { chains, rewardTargetFor } from "../../chain/chain-helpers";
import { admin, call, createSession, minersFor, until } from "../../helpers";
import { flushReports } from "../../report-flush";
import { account, available, post, UNIT } from "../../wallet-accounts";

const BASE = "/neuroshard/api/v1/wallet/claims";

async function claimsOf(key: string) {
  const res = await call(BASE, { key });
  expect(res.status, await res.clone().text()).toBe(200);
  return WalletClaimsSchema.parse(await res.json());
}

describe("economy: claimable rewards", () => {
  it("earnings claimed as tokens left the ledger: the same micros cannot also be sent or staked", async () => {
    const main = chains().main;
    const target = rewardTargetFor(main);
    const { model, ids, keys } = await minersFor(["fastA", "fastB"], { registered: ["fastA", "fastB"] });
    const miner = await account(0);
    const other = await account(0);
    expect((await admin(`/api/v1/admin/miners/${ids.fastA}`, "PATCH", { payout_account: miner.id })).status).toBe(200);
    expect((await admin(`/api/v1/admin/miners/${ids.fastB}`, "PATCH", { payout_account: other.id })).status).toBe(200);
    const sessionId = await createSession({ model, redundancy: 2 });
    for (const prompt of ["one", "two"]) {
      const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt, timeout: 20 } });
      expect(res.status, await res.clone().text()).toBe(200);
    }
    await flushReports(sessionId);
    const earned = await until(async () => (await claimsOf(miner.key)).claims[0]?.earned_micros);
    expect(await available(miner.key)).toBe(earned / UNIT);

    const rewards = rewardsStub(env, target);
    await rewards.scheduleRewards(target);
    const closed = await rewards.closeRewardEpoch({ force: true });
    expect(closed.error).toBeNull();
    // Posted on chain: it left the payout account.
    const [posted] = (await claimsOf(miner.key)).claims;
    expect(posted).toMatchObject({ earned_micros: earned, settled_micros: earned, posted_micros: earned, unposted_micros: 0 });
    expect(await available(miner.key)).toBe(0);

    // The miner claims its tokens with its own key.
    const funder = devChainClients(main.url, main.chainId, main.accounts[7] as Address);
    const minerAccount = privateKeyToAccount(keys.fastA as Hex);
    await funder.confirm(await funder.wallet.sendTransaction({ to: minerAccount.address, value: parseEther("1") }));
    const claimer = devChainClients(main.url, main.chainId, minerAccount);
    const claim = posted!.claim!;
    await claimer.confirm(
      await claimer.wallet.writeContract({
        address: main.distributorAddress,
        abi: rewardDistributorAbi,
        functionName: "claim",
        args: [BigInt(claim.epoch), BigInt(claim.cumulative_micros), claim.proof as Hex[]],
      }),
    );
    const tokens = await claimer.publicClient.readContract({ address: main.tokenAddress, abi: rewardTokenAbi, functionName: "balanceOf", args: [minerAccount.address] });
    expect(tokens).toBe(BigInt(earned));

    // The same micros in the ledger: a send and a stake of them are refused, nothing moves.
    const sent = await post("/send", miner.key, { to: other.id, amount: earned / UNIT, memo: "spent twice" });
    expect(sent.status, await sent.clone().text()).toBe(402);
    expect(await sent.json()).toMatchObject({ error: { code: "INSUFFICIENT_BALANCE" } });
    const staked = await post("/stake", miner.key, { amount: earned / UNIT, duration_days: 30 });
    expect(staked.status, await staked.clone().text()).toBe(402);
    expect(await available(miner.key)).toBe(0);
    // Ledger balance plus tokens is what it earned, once.
    expect(BigInt(Math.round((await available(miner.key)) * UNIT)) + tokens).toBe(BigInt(earned));

    const conservation = (await (await admin("/api/v1/admin/ledger/conservation", "GET")).json()) as {
      holds: boolean;
      totals_micros: { settled: number };
      claims: { holds: boolean; unmatched: string[]; over_posted: string[] };
    };
    expect(conservation.claims).toMatchObject({ holds: true, unmatched: [], over_posted: [] });
    expect(conservation.totals_micros.settled).toBeGreaterThanOrEqual(earned);
    expect(conservation.holds).toBe(true);
  });

  it("a disagreeing miner and one without a proven address are posted nothing; claiming without a leaf of one's own reverts", async () => {
    const main = chains().main;
    const target = rewardTargetFor(main);
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

  it("a distributor beside an invalid chain setting is a 503 naming the setting, not a 404 saying no rewards are posted", async () => {
    const who = await account(0);
    const misconfigured = { ...env, REWARD_EPOCH_S: "5" } as typeof env;
    const refused = await walletClaims(misconfigured, who.id, {}).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 503, code: "chain_not_configured" });
    expect(((refused as ApiError).details as { problems: string[] }).problems.join("\n")).toMatch(/REWARD_EPOCH_S/);
  });
});
