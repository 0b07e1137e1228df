/**
 * Claimable rewards against the real dev chains (test/setup/global-setup.ts
 * deploys a RewardDistributor on each, its poster the router's
 * CHAIN_SIGNER_KEY account): miners earn through real tasks, the router
 * posts an epoch's root of their cumulative earnings, and each miner claims
 * with its own key what the ledger says it earned, once.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type Address, type Hex, parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { rewardDistributorAbi, rewardTokenAbi } from "../../contracts/artifacts";
import { ledgerStub, rewardsStub } from "../../domain/objects/stubs";
import { WalletClaimsSchema } from "../../domain/schemas/wallet-claims";
import { devChainClients } from "../../tools/dev-chain/deploy";
import { admin, call, createSession, minersFor, until, workerFetch } from "../helpers";
import { claimRewards } from "../../scripts/chain/claim";
import { flushReports } from "../report-flush";
import { account, available, post, UNIT } from "../wallet-accounts";
import { chains, rewardTargetFor } from "./chain-helpers";
import type { TestChain } from "../setup/global-setup";

const routerAccount = () => privateKeyToAccount(env.CHAIN_SIGNER_KEY as Hex).address;
/** A test chain's rewards target whose calls give up after 1 s, so a fault the proxy injects costs a test little time. */
const targetOf = (chain: TestChain) => rewardTargetFor(chain, { rpcTimeoutMs: 1_000 });

/** Two honest miners with registered (proven) addresses, each paying out to its own wallet account, answer `tasks` tasks. */
async function earningMiners(tasks: number) {
  const { model, ids, keys } = await minersFor(["fastA", "fastB"], { registered: ["fastA", "fastB"] });
  const accounts: Record<string, { id: string; key: string }> = {};
  for (const name of ["fastA", "fastB"] as const) {
    accounts[name] = await account(0);
    const res = await admin(`/api/v1/admin/miners/${ids[name]}`, "PATCH", { payout_account: accounts[name].id });
    expect(res.status, await res.clone().text()).toBe(200);
  }
  const sessionId = await createSession({ model, redundancy: 2 });
  for (let i = 0; i < tasks; i++) {
    const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: `earn ${i}`, timeout: 20 } });
    expect(res.status, await res.clone().text()).toBe(200);
  }
  await flushReports(sessionId);
  // The rewards are credited once the session's outcome reports are flushed.
  for (const name of ["fastA", "fastB"] as const) await until(async () => (await claimsOf(accounts[name]!.key)).claims[0]?.earned_micros);
  return { ids, keys: keys as Record<"fastA" | "fastB", Hex>, accounts };
}

async function claimsOf(key: string) {
  const res = await call("/neuroshard/api/v1/wallet/claims", { key });
  expect(res.status, await res.clone().text()).toBe(200);
  return WalletClaimsSchema.parse(await res.json());
}

/** A miner's key with gas money on `chain` (the dev account 7 funds it). */
async function funded(chain: TestChain, key: Hex) {
  const funder = devChainClients(chain.url, chain.chainId, chain.accounts[7] as Address);
  await funder.confirm(await funder.wallet.sendTransaction({ to: privateKeyToAccount(key).address, value: parseEther("1") }));
  return devChainClients(chain.url, chain.chainId, privateKeyToAccount(key));
}

describe("claimable rewards", () => {
  it("a miner claims what the ledger says it earned, once; another's or a forged proof reverts; only the poster posts", async () => {
    const main = chains().main;
    const target = targetOf(main);
    const { keys, accounts } = await earningMiners(2);
    const rewards = rewardsStub(env, target);
    await rewards.scheduleRewards(target);

    const before = await claimsOf(accounts.fastA!.key);
    expect(before.claims).toHaveLength(1);
    expect(before.claims[0]).toMatchObject({ address: privateKeyToAccount(keys.fastA).address.toLowerCase(), posted_micros: 0, claimed_micros: 0, claim: null });
    const earnedA = before.claims[0]!.earned_micros;
    expect(earnedA).toBeGreaterThan(0);
    expect(before.claims[0]!.unposted_micros).toBe(earnedA);

    const closed = await rewards.closeRewardEpoch({ force: true });
    expect(closed.error).toBeNull();
    expect(closed.posted?.tx_hash).toMatch(/^0x[0-9a-f]{64}$/);
    // Nothing earned since: a second close seals nothing.
    expect(await rewards.closeRewardEpoch({ force: true })).toMatchObject({ sealed: null, posted: null, error: null, unchanged: true });

    const [a] = (await claimsOf(accounts.fastA!.key)).claims;
    expect(a).toMatchObject({ settled_micros: earnedA, posted_micros: earnedA, claimed_micros: 0, unclaimed_micros: earnedA, unposted_micros: 0 });
    // Posted on chain, it left the payout account: the wallet shows the settlement, the balance no longer counts it.
    expect(await available(accounts.fastA!.key)).toBe(0);
    const txs = (await (await call("/neuroshard/api/v1/wallet/transactions", { key: accounts.fastA!.key })).json()) as {
      transactions: { type: string; amount: number; details: unknown }[];
    };
    expect(txs.transactions.filter((t) => t.type === "settle")).toEqual([
      {
        id: expect.stringMatching(/^tx_settle_/),
        type: "settle",
        amount: -earnedA / UNIT,
        timestamp: expect.any(String),
        details: expect.objectContaining({ address: a!.address }),
      },
    ]);
    const claim = a!.claim!;
    expect(claim).toMatchObject({ epoch: closed.posted?.epoch, root: closed.posted?.root, cumulative_micros: earnedA, transaction: closed.posted?.tx_hash });

    const miner = await funded(main, keys.fastA);
    const distributor = main.distributorAddress;
    const tokenBalance = (of: Address) => miner.publicClient.readContract({ address: main.tokenAddress, abi: rewardTokenAbi, functionName: "balanceOf", args: [of] });
    const claimArgs = [BigInt(claim.epoch), BigInt(claim.cumulative_micros), claim.proof as Hex[]] as const;

    // Another miner sending fastA's proof: the leaf is (sender, amount), so it does not verify.
    const other = await funded(main, keys.fastB);
    await expect(other.wallet.writeContract({ address: distributor, abi: rewardDistributorAbi, functionName: "claim", args: claimArgs })).rejects.toThrow(/invalid proof/);
    // A forged amount under fastA's own key.
    await expect(
      miner.wallet.writeContract({ address: distributor, abi: rewardDistributorAbi, functionName: "claim", args: [claimArgs[0], claimArgs[1] + 1n, claimArgs[2]] }),
    ).rejects.toThrow(/invalid proof/);

    await miner.confirm(await miner.wallet.writeContract({ address: distributor, abi: rewardDistributorAbi, functionName: "claim", args: claimArgs }));
    const address = privateKeyToAccount(keys.fastA).address;
    expect(await tokenBalance(address)).toBe(BigInt(earnedA));
    // A second claim pays nothing.
    await expect(miner.wallet.writeContract({ address: distributor, abi: rewardDistributorAbi, functionName: "claim", args: claimArgs })).rejects.toThrow(/nothing to claim/);
    expect(await tokenBalance(address)).toBe(BigInt(earnedA));

    const after = (await claimsOf(accounts.fastA!.key)).claims[0];
    expect(after).toMatchObject({ earned_micros: earnedA, posted_micros: earnedA, claimed_micros: earnedA, unclaimed_micros: 0 });
    expect((await claimsOf(accounts.fastA!.key)).token).toBe(main.tokenAddress.toLowerCase());

    // fastB claims as `npm run chain -- claim` does (scripts/chain/claim.ts): the proof from the router, the claim from its key.
    const earnedB = (await claimsOf(accounts.fastB!.key)).claims[0]!.earned_micros;
    const viaCli = { rpcUrl: main.url, chainId: main.chainId, routerUrl: "http://router.test", apiKey: accounts.fastB!.key, key: keys.fastB, fetch: workerFetch() };
    const claimedB = await claimRewards(viaCli);
    expect(claimedB).toMatchObject({ address: privateKeyToAccount(keys.fastB).address, paid_micros: earnedB, claimed_micros: earnedB, balance_micros: earnedB });
    expect(claimedB.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await claimRewards(viaCli)).toMatchObject({ paid_micros: 0, transaction: null, balance_micros: earnedB });

    // Only the router's account posts roots.
    expect(routerAccount()).not.toBe(main.accounts[6]);
    const stranger = devChainClients(main.url, main.chainId, main.accounts[6] as Address);
    const post = { address: distributor, abi: rewardDistributorAbi, functionName: "postRoot", args: [1000n, `0x${"ab".repeat(32)}`, 1n] } as const;
    await expect(stranger.publicClient.simulateContract({ ...post, account: main.accounts[6] as Address })).rejects.toThrow(/not the poster/);
    const epochBefore = await miner.publicClient.readContract({ address: distributor, abi: rewardDistributorAbi, functionName: "epoch" });
    await expect(stranger.confirm(await stranger.wallet.writeContract(post))).rejects.toThrow(/reverted/);
    expect(await miner.publicClient.readContract({ address: distributor, abi: rewardDistributorAbi, functionName: "epoch" })).toBe(epochBefore);

    // The conservation check covers the claims: what was claimed is at most what was posted, which is what the ledger says was earned.
    const conservation = (await (await admin("/api/v1/admin/ledger/conservation", "GET")).json()) as { holds: boolean; claims: unknown };
    expect(conservation.claims).toMatchObject({ holds: true, over_claimed: [], over_posted: [], unmatched: [], unposted_settled_micros: 0 });
    expect(conservation.holds).toBe(true);
  });

  it("a seal retried after its Ledgers settled (a lost answer, a crash before sealing) debits once and posts what moved", async () => {
    const faulty = chains().faulty;
    const target = targetOf(faulty);
    const { ids, keys, accounts } = await earningMiners(1);
    const rewards = env.CHAIN_INDEX.get(env.CHAIN_INDEX.idFromName(`rewards-test:resettle:${crypto.randomUUID()}`));
    await rewards.scheduleRewards(target);
    const reader = devChainClients(faulty.directUrl, faulty.chainId, routerAccount()).publicClient;
    const round = Number(await reader.readContract({ address: faulty.distributorAddress, abi: rewardDistributorAbi, functionName: "epoch" })) + 1;
    const earnedA = (await claimsOf(accounts.fastA!.key)).claims[0]!.earned_micros;
    const address = privateKeyToAccount(keys.fastA).address.toLowerCase();

    // The round's settlement reached the Ledger, and its answer was lost (asked again: the same answer, nothing more debited).
    const ledger = ledgerStub(env, accounts.fastA!.id);
    const first = await ledger.settleEarnings(target.distributorAddress, round, [{ minerId: ids.fastA!, address }]);
    expect(first).toEqual([{ minerId: ids.fastA, address, movedMicros: earnedA, replayed: false }]);
    expect(await ledger.settleEarnings(target.distributorAddress, round, [{ minerId: ids.fastA!, address }])).toEqual([
      { minerId: ids.fastA, address, movedMicros: earnedA, replayed: true },
    ]);
    expect(await available(accounts.fastA!.key)).toBe(0);

    // The close asks the same round: it finds that settlement and posts exactly it.
    const closed = await rewards.closeRewardEpoch({ force: true });
    expect(closed.error).toBeNull();
    expect(closed.sealed).toBe(round);
    const leaves = await rewards.rewardEpochEntries(round);
    expect(leaves.find((l) => l.address === address)?.cumulativeMicros).toBe(earnedA);
    expect((await ledger.figures())?.settled).toBe(earnedA);
    // Again, nothing new: nothing sealed, nothing debited.
    expect(await rewards.closeRewardEpoch({ force: true })).toMatchObject({ sealed: null, unchanged: true });
    expect((await ledger.figures())?.settled).toBe(earnedA);
    expect(await available(accounts.fastA!.key)).toBe(0);
  });

  it("a miner that sent part of its earnings before the epoch settles only what is left", async () => {
    const faulty = chains().faulty;
    const target = targetOf(faulty);
    const { keys, accounts } = await earningMiners(2);
    const rewards = env.CHAIN_INDEX.get(env.CHAIN_INDEX.idFromName(`rewards-test:spent:${crypto.randomUUID()}`));
    await rewards.scheduleRewards(target);
    const earnedA = (await claimsOf(accounts.fastA!.key)).claims[0]!.earned_micros;
    const earnedB = (await claimsOf(accounts.fastB!.key)).claims[0]!.earned_micros;
    const spent = Math.floor(earnedA / 2);
    const sent = await post("/send", accounts.fastA!.key, { to: accounts.fastB!.id, amount: spent / UNIT, memo: "before the epoch" });
    expect(sent.status, await sent.clone().text()).toBe(200);
    const left = Math.round((await available(accounts.fastA!.key)) * UNIT);
    expect(left).toBeLessThanOrEqual(earnedA - spent);

    const closed = await rewards.closeRewardEpoch({ force: true });
    expect(closed.error).toBeNull();
    const leaves = await rewards.rewardEpochEntries(closed.sealed!);
    const leafOf = (key: Hex) => leaves.find((l) => l.address === privateKeyToAccount(key).address.toLowerCase())?.cumulativeMicros;
    // fastA: only what was left of its earnings left the ledger, and only that is claimable.
    expect(leafOf(keys.fastA)).toBe(left);
    expect(await available(accounts.fastA!.key)).toBe(0);
    expect(await ledgerStub(env, accounts.fastA!.id).figures()).toMatchObject({ settled: left });
    // fastB: its own earnings settle; what it was sent stays in its ledger balance.
    expect(leafOf(keys.fastB)).toBe(earnedB);
    expect(Math.round((await available(accounts.fastB!.key)) * UNIT)).toBe(spent);
  });

  it("posts an epoch once when its answer is lost, and the retry finds it on chain", async () => {
    const faulty = chains().faulty;
    const target = targetOf(faulty);
    await earningMiners(1);
    const rewards = env.CHAIN_INDEX.get(env.CHAIN_INDEX.idFromName(`rewards-test:lost:${crypto.randomUUID()}`));
    await rewards.scheduleRewards(target);
    const reader = devChainClients(faulty.directUrl, faulty.chainId, routerAccount()).publicClient;
    const epochOnChain = () => reader.readContract({ address: faulty.distributorAddress, abi: rewardDistributorAbi, functionName: "epoch" });
    const before = await epochOnChain();

    // The transaction reaches the chain; its answer never reaches the router.
    await fetch(`${faulty.url}/__faults`, { method: "POST", body: JSON.stringify({ loseAnswerTo: "eth_sendRawTransaction" }) });
    try {
      const first = await rewards.closeRewardEpoch({ force: true });
      expect(first.sealed).toBe(Number(before) + 1);
      expect(first.error).not.toBeNull();
    } finally {
      await fetch(`${faulty.url}/__faults`, { method: "POST", body: JSON.stringify({}) });
    }
    expect(await epochOnChain()).toBe(before + 1n);

    const retried = await rewards.closeRewardEpoch({ force: true });
    expect(retried.error).toBeNull();
    expect(retried.sealed).toBeNull();
    expect(retried.posted).toMatchObject({ epoch: Number(before) + 1 });
    expect(await epochOnChain()).toBe(before + 1n);
    const logs = await reader.getContractEvents({
      address: faulty.distributorAddress,
      abi: rewardDistributorAbi,
      eventName: "RootPosted",
      args: { epoch: before + 1n },
      fromBlock: 0n,
    });
    expect(logs.map((l) => l.transactionHash)).toEqual([retried.posted?.tx_hash]);
    expect(await reader.readContract({ address: faulty.distributorAddress, abi: rewardDistributorAbi, functionName: "roots", args: [before + 1n] })).toBe(retried.posted?.root);
  });

  it("a sealed epoch whose number the chain passed is renumbered past it, and posted once", async () => {
    const faulty = chains().faulty;
    const target = targetOf(faulty);
    await earningMiners(1);
    const rewards = env.CHAIN_INDEX.get(env.CHAIN_INDEX.idFromName(`rewards-test:renumber:${crypto.randomUUID()}`));
    await rewards.scheduleRewards(target);
    const router = devChainClients(faulty.directUrl, faulty.chainId, privateKeyToAccount(env.CHAIN_SIGNER_KEY as Hex));
    const epochOnChain = () => router.publicClient.readContract({ address: faulty.distributorAddress, abi: rewardDistributorAbi, functionName: "epoch" });
    const before = await epochOnChain();

    // The transaction never reaches the chain: the epoch is sealed as the next number, unsent.
    await fetch(`${faulty.url}/__faults`, { method: "POST", body: JSON.stringify({ dropCallTo: "eth_sendRawTransaction" }) });
    try {
      expect(await rewards.closeRewardEpoch({ force: true })).toMatchObject({ sealed: Number(before) + 1, posted: null });
    } finally {
      await fetch(`${faulty.url}/__faults`, { method: "POST", body: JSON.stringify({}) });
    }
    // Meanwhile the poster's account posts another root as that epoch.
    const other = `0x${crypto.randomUUID().replaceAll("-", "").padEnd(64, "e")}` as Hex;
    await router.confirm(
      await router.wallet.writeContract({ address: faulty.distributorAddress, abi: rewardDistributorAbi, functionName: "postRoot", args: [before + 1n, other, 1n] }),
    );

    const retried = await rewards.closeRewardEpoch({ force: true });
    expect(retried.error).toBeNull();
    expect(retried.posted).toMatchObject({ epoch: Number(before) + 2 });
    expect(await epochOnChain()).toBe(before + 2n);
    expect(await router.publicClient.readContract({ address: faulty.distributorAddress, abi: rewardDistributorAbi, functionName: "roots", args: [before + 2n] })).toBe(
      retried.posted?.root,
    );
    expect((await rewards.rewardEpochs()).map((e) => e.epoch)).toEqual([Number(before) + 2]);
  });

  it("closes an epoch on the object's alarm once REWARD_EPOCH_S has passed", async () => {
    const main = chains().main;
    await earningMiners(1);
    const target = { ...targetOf(main), epochMs: 1_000 };
    const rewards = env.CHAIN_INDEX.get(env.CHAIN_INDEX.idFromName(`rewards-test:alarm:${crypto.randomUUID()}`));
    const due = await rewards.scheduleRewards(target);
    expect(due).toBeGreaterThan(Date.now());
    expect(await rewards.rewardEpochs()).toEqual([]);
    const posted = await until(async () => (await rewards.rewardEpochs()).find((e) => e.tx_hash !== null));
    const reader = devChainClients(main.url, main.chainId, routerAccount()).publicClient;
    expect(await reader.readContract({ address: main.distributorAddress, abi: rewardDistributorAbi, functionName: "roots", args: [BigInt(posted.epoch)] })).toBe(posted.root);
  });
});
