import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { type Address, type Hex, keccak256, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { ChainSigner } from "../../domain/chain/account-sender";
import { postRoot } from "../../domain/chain/receipt-anchor";
import { postEpoch } from "../../domain/chain/reward-distributor";
import { writeBack } from "../../domain/chain/writeback";
import { accountSender } from "../../durable-objects/chain-account/chain-account-object";
import { chainAccountStub } from "../../domain/objects/stubs";
import { deployContracts, devChainClients } from "../../tools/dev-chain/deploy";
import { receiptAnchorAbi, rewardDistributorAbi, sessionQueueV2Abi } from "../../contracts/artifacts";
import { actors, anchorTargetFor, chains, rpc, targetFor } from "./chain-helpers";

/**
 * The router's chain account has three senders: the Chain index's
 * write-back, the receipt anchor instance and the rewards instance. On a
 * chain whose blocks come slowly (here: automine off, a block mined when
 * the test says), transactions sent at the same moment wait in the mempool
 * together. Each sender reading the pending nonce on its own takes the same
 * one as the others, and the node refuses all but one; sent through the
 * account's one ChainAccountObject, the three take consecutive nonces and
 * land in one block.
 */
const slow = chains().slow;
const key = () => env.CHAIN_SIGNER_KEY as Hex;
const router = () => privateKeyToAccount(key()).address;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Fresh contracts on the slow chain, with one task queued to write back; then automine off. */
async function fresh() {
  await rpc(slow.url, "evm_setAutomine", [true]);
  const deployment = await deployContracts(slow.url, slow.chainId, slow.accounts[0] as Address, { rewardPoster: router() });
  const chain = { ...slow, ...deployment };
  const a = actors(chain);
  await a.sessionWrite(a.admin, "addRouter", [router(), "this edge router"]);
  await a.sessionWrite(a.owner, "create", ["hybrid", "", a.owner, 1n, 1n, 1n, 0n, 1n, false]);
  await a.queueWrite(a.owner, "submitTask", [0n, JSON.stringify({ type: "chat", message: "hello" })]);
  const anchor = anchorTargetFor(chain, { batchSize: 10, intervalMs: 60_000 });
  const rewards = { rpcUrl: chain.url, chainId: chain.chainId, rpcTimeoutMs: 5_000, distributorAddress: chain.distributorAddress.toLowerCase() as Address };
  await rpc(slow.url, "evm_setAutomine", [false]);
  return { a, queue: targetFor(chain, { writeback: true }), anchor, rewards };
}

type Outcome = { ok: boolean; error?: string; transaction?: Hex | null };
const root = (tag: string) => keccak256(toHex(`${tag}:${crypto.randomUUID()}`));

/**
 * `sends`, started at the same moment. Mines one block once every send is
 * either in the mempool or over (refused), then returns their outcomes and
 * how many transactions waited in the mempool together.
 */
async function allAtOnce(sends: Promise<Outcome>[]) {
  let over = 0;
  const tracked = sends.map((p) => p.finally(() => over++));
  let pending = 0;
  for (let i = 0; i < 400 && pending + over < sends.length; i++) {
    await sleep(25);
    pending = (await rpc<{ transactions: unknown[] }>(slow.url, "eth_getBlockByNumber", ["pending", false])).transactions.length;
  }
  await rpc(slow.url, "evm_mine");
  return { outcomes: await Promise.all(tracked), pending };
}

/** The three paths' sends, through `signer`: a write-back, an anchor post and a reward post. */
const threePaths = (setup: Awaited<ReturnType<typeof fresh>>, signer: ChainSigner): Promise<Outcome>[] => [
  writeBack(setup.queue, signer, { sessionId: 0, taskId: 0, result: "answer" }),
  postRoot(setup.anchor, signer, { batch: 1, root: root("anchor"), count: 2 }),
  postEpoch(setup.rewards, signer, { epoch: 1, root: root("epoch"), totalMicros: 5 }),
];

/** The same three calls as the paths made them before: each its own viem wallet client, which reads the pending nonce per send. */
function threeWalletClients(setup: Awaited<ReturnType<typeof fresh>>): Promise<Outcome>[] {
  const account = privateKeyToAccount(key());
  const zero = `0x${"0".repeat(64)}` as Hex;
  const sent = async (send: (wallet: ReturnType<typeof devChainClients>["wallet"]) => Promise<Hex>): Promise<Outcome> => {
    const { wallet, publicClient } = devChainClients(slow.url, slow.chainId, account);
    try {
      const hash = await send(wallet);
      const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 100, timeout: 15_000 });
      return { ok: receipt.status === "success", transaction: hash };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  };
  return [
    sent((w) =>
      w.writeContract({
        address: setup.queue.queueAddress,
        abi: sessionQueueV2Abi,
        functionName: "recordTask",
        args: [0n, 0n, { router: account.address, edgeSessionId: 0n, edgeTaskId: 0n, requestHash: zero }, [{ miner: account.address, result: "answer", signature: "0x" }]],
      }),
    ),
    sent((w) => w.writeContract({ address: setup.anchor.anchorAddress, abi: receiptAnchorAbi, functionName: "anchor", args: [1n, root("anchor"), 2n] })),
    sent((w) => w.writeContract({ address: setup.rewards.distributorAddress, abi: rewardDistributorAbi, functionName: "postRoot", args: [1n, root("epoch"), 5n] })),
  ];
}

const errorOf = (o: Outcome) => (o.ok ? null : (o.error ?? ""));

describe("one sender per chain account", () => {
  afterEach(async () => {
    await rpc(slow.url, "evm_setAutomine", [true]);
  });

  it("three senders each reading the pending nonce (as before) collide: the node refuses a nonce another already took", async () => {
    // Timing decides whether two nonce reads overlap; a few rounds make it all but certain.
    const errors: string[] = [];
    for (let round = 0; round < 5 && errors.length === 0; round++) {
      const { outcomes } = await allAtOnce(threeWalletClients(await fresh()));
      for (const error of outcomes.map(errorOf)) if (error !== null) errors.push(error);
    }
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join("\n")).toMatch(/nonce|underpriced|already known/i);
  });

  it("through the account's one object, the three take consecutive nonces and land in the same block", async () => {
    const setup = await fresh();
    const before = await setup.a.reader.getTransactionCount({ address: router(), blockTag: "latest" });
    const sender = accountSender(env, slow.chainId, router());
    const { outcomes, pending } = await allAtOnce(threePaths(setup, sender));
    const [, anchored, posted] = outcomes;
    expect(outcomes.map(errorOf)).toEqual([null, null, null]);
    // Not one broadcast refused for its nonce: the object gave them out, the node never had to say no.
    expect(await chainAccountStub(env, slow.chainId, router()).senderState()).toEqual({ next_nonce: before + 3, in_flight: [], broadcasts: 3, nonce_refusals: 0 });
    // All three waited in the mempool together: sent without waiting for each other's receipts.
    expect(pending).toBe(3);
    const hashes = outcomes.map((o) => o.transaction as Hex);
    const txs = await Promise.all(hashes.map((hash) => setup.a.reader.getTransaction({ hash })));
    expect(new Set(txs.map((t) => t.blockNumber)).size).toBe(1);
    expect(txs.map((t) => t.nonce).sort((x, y) => x - y)).toEqual([before, before + 1, before + 2]);
    // What each path wrote is on chain: the task ended, batch 1 anchored, epoch 1 posted.
    expect((await setup.a.getTasks(0n))[0]?.status).toBe(4);
    expect(anchored).toMatchObject({ ok: true, sent: true });
    expect(posted).toMatchObject({ ok: true, sent: true });
  });

  it("a nonce taken meanwhile by another client of the key is read again, and the next send goes through", async () => {
    const setup = await fresh();
    await rpc(slow.url, "evm_setAutomine", [true]);
    const sender = accountSender(env, slow.chainId, router());
    const first = await postEpoch(setup.rewards, sender, { epoch: 1, root: keccak256(toHex(crypto.randomUUID())), totalMicros: 5 });
    expect(first).toMatchObject({ ok: true, sent: true });
    // Another wallet of the same key (an operator's script) sends in between.
    const other = await postRoot(setup.anchor, key(), { batch: 1, root: keccak256(toHex(crypto.randomUUID())), count: 1 });
    expect(other).toMatchObject({ ok: true, sent: true });
    const again = await postEpoch(setup.rewards, sender, { epoch: 2, root: keccak256(toHex(crypto.randomUUID())), totalMicros: 6 });
    expect(again).toMatchObject({ ok: true, sent: true });
  });

  it("a nonce another client of the key took while the object's own transaction waits is refused once, read again, and the send goes through", async () => {
    const setup = await fresh();
    const pendingCount = async () => (await rpc<{ transactions: unknown[] }>(slow.url, "eth_getBlockByNumber", ["pending", false])).transactions.length;
    const until = async (n: number) => {
      for (let i = 0; i < 400 && (await pendingCount()) < n; i++) await sleep(25);
      expect(await pendingCount()).toBe(n);
    };
    const stub = chainAccountStub(env, slow.chainId, router());
    const sender = accountSender(env, slow.chainId, router());
    const before = await setup.a.reader.getTransactionCount({ address: router(), blockTag: "pending" });
    const refusalsBefore = (await stub.senderState())?.nonce_refusals ?? 0;
    // The object's reward post waits in the mempool with nonce `before`; the object would give the next send `before + 1`.
    const posted = postEpoch(setup.rewards, sender, { epoch: 1, root: root("epoch"), totalMicros: 5 });
    await until(1);
    // An operator's script with the same key takes `before + 1` meanwhile.
    const { wallet } = devChainClients(slow.url, slow.chainId, privateKeyToAccount(key()));
    const script = await wallet.writeContract({
      address: setup.anchor.anchorAddress,
      abi: receiptAnchorAbi,
      functionName: "anchor",
      args: [1n, root("script"), 1n],
      nonce: before + 1,
    });
    await until(2);
    const written = writeBack(setup.queue, sender, { sessionId: 0, taskId: 0, result: "answer" });
    await until(3);
    await rpc(slow.url, "evm_mine");
    const [p, w] = await Promise.all([posted, written]);
    expect([errorOf(p), errorOf(w)]).toEqual([null, null]);
    const nonces = await Promise.all(
      [(p as Outcome).transaction, script, (w as Outcome).transaction].map(async (hash) => (await setup.a.reader.getTransaction({ hash: hash as Hex })).nonce),
    );
    expect(nonces).toEqual([before, before + 1, before + 2]);
    expect((await stub.senderState())?.nonce_refusals).toBe(refusalsBefore + 1);
  });
});
