import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ethers } from "ethers";
import { type Address, createPublicClient, decodeFunctionData, type Hex, http, sha256, stringToHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { rewardTokenAbi, sessionQueueV2Abi, sessionV2Abi } from "../../contracts/artifacts.ts";
import { DEV_ADMIN_TOKEN, DEV_CUSTOMER_KEY, DEV_ROUTER_TOKEN } from "../../domain/config/dev-credentials.ts";
import { resultMessage } from "../../domain/miners/result-signature.ts";
import { WalletClaimsSchema } from "../../domain/schemas/wallet-claims.ts";
import { type DevStack, startDevStack } from "../../scripts/dev-stack.ts";
import { freePort } from "../../scripts/ports.ts";
import { devAccountKeys } from "../../tools/dev-chain/server.ts";
import { devMinerKey } from "../../tools/dev-miner/sign.ts";

/**
 * The chain side of `npm run dev`, on one stack (scripts/dev-stack.ts, free
 * ports, the cron every second and reward epochs of 10 s, the least
 * REWARD_EPOCH_S takes, instead of the dev chain's 60): starting the stack
 * is most of this file's time, so both stories share it.
 *
 * 1. The seed's Web3 SDK (seeds/002): `submitTask` on the hybrid session,
 *    and `getTaskResults` names the dev miners who answered, by their own
 *    registered addresses, the task Ended by ONE transaction of the router.
 * 2. Issue 26's "a miner claims its earnings and its token balance equals
 *    what the ledger says it earned": dev miners earn through real tasks, the
 *    router posts an epoch, and the README's command, run as a user runs it
 *    (a child process, the key file the stack wrote, the dev customer's key
 *    the banner prints), claims it once.
 */

const run = promisify(execFile);
const ROOT = new URL("../..", import.meta.url).pathname;
const ENDED = 4n;
/** Dev accounts of the chain: [1] owns the hybrid session (scripts/chain/dev-chain.ts), [8] is the router's chain account. */
const keys = devAccountKeys(10) as Hex[];
const OWNER_KEY = keys[1] as Hex;
const ROUTER = privateKeyToAccount(keys[8] as Hex).address;
/** dev-miner-1..5 sign with devMinerKey(name) and are registered under its address (scripts/dev-stack.ts). */
/** The seed's contract calls this test makes, typed (ethers types a contract's methods by name only). */
type QueueCalls = {
  submitTask(sessionId: number | bigint, taskData: string): Promise<ethers.ContractTransactionResponse>;
  getTasksBySessionId(sessionId: number | bigint): Promise<{ status: bigint }[]>;
  getTaskResults(sessionId: number | bigint, taskId: number | bigint): Promise<[string[], string[]]>;
};
type SessionCalls = {
  create(...args: unknown[]): Promise<ethers.ContractTransactionResponse>;
  getSessions(owner: string): Promise<{ id: bigint }[]>;
};
const DEV_MINER_ADDRESSES = [1, 2, 3, 4, 5].map((n) => privateKeyToAccount(devMinerKey(`dev-miner-${n}`)).address);

let stack: DevStack;
const state = mkdtempSync(join(tmpdir(), "chain-stack-"));
beforeAll(async () => {
  stack = await startDevStack({
    port: await freePort(),
    sidePorts: "ephemeral",
    persistTo: join(state, "wrangler"),
    chainFile: false,
    minerKeyDir: join(state, "keys"),
    rewardEpochS: 10,
    cronEveryMs: 1_000,
  });
}, 240_000);
afterAll(async () => {
  await stack?.stop();
  rmSync(state, { recursive: true, force: true });
});

describe("the seed's submitTask on the hybrid session of npm run dev", () => {
  it("ends the task in one write-back transaction, and getTaskResults names the answering dev miners' registered addresses", async () => {
    const SESSION_QUEUE_V2_ADDRESS = stack.chain.queueAddress;
    const SessionQueueV2ABI = sessionQueueV2Abi;
    const provider = new ethers.JsonRpcProvider(stack.chain.rpcUrl);
    const signer = new ethers.Wallet(OWNER_KEY, provider);
    const sessionId = stack.chain.hybridSessionId;
    const submittedFrom = await provider.getBlockNumber();

    // The seed's "Submit Task", as written (with the dev stack's hybrid session):
    const queueContract = new ethers.Contract(SESSION_QUEUE_V2_ADDRESS, SessionQueueV2ABI, signer) as unknown as QueueCalls;
    const tx = await queueContract.submitTask(sessionId, JSON.stringify({ type: "chat", message: "Hello" }));
    await tx.wait();
    const taskId = BigInt((await queueContract.getTasksBySessionId(sessionId)).length - 1);

    // The router indexes it (cron every second here), runs it on its edge session's dev miners and writes it back.
    await vi.waitFor(
      async () => {
        const tasks = await queueContract.getTasksBySessionId(sessionId);
        expect(tasks[Number(taskId)]?.status).toBe(ENDED);
      },
      { timeout: 90_000, interval: 500 },
    );

    // The seed's "Get Tasks by Session", as written:
    const [miners, results] = await queueContract.getTaskResults(sessionId, taskId);
    expect(miners.length).toBeGreaterThan(0);
    for (const miner of miners) {
      expect(DEV_MINER_ADDRESSES).toContain(miner);
      expect(miner).not.toBe(ROUTER);
    }
    expect(new Set(miners).size).toBe(miners.length);

    // What the router says it did: the dispatch answered on edge session 1, written back; each result is the output its miner signed.
    const route = await fetch(`${stack.origin}/api/v1/chain/tasks/${sessionId}/${taskId}`, { headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` } });
    expect(route.status).toBe(200);
    const detail = (await route.json()) as { dispatch: { status: string; edge_session_id: number; edge_task_id: number; writeback: { status: string } } };
    expect(detail.dispatch).toMatchObject({ status: "answered", edge_session_id: stack.chain.hybridEdgeSessionId, writeback: { status: "done" } });
    const receipt = (await (
      await fetch(`${stack.origin}/api/v1/tasks/${detail.dispatch.edge_session_id}/${detail.dispatch.edge_task_id}/receipt`, {
        headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` },
      })
    ).json()) as { miners: { address: string | null; output: string | null; signature: string | null }[] };
    for (const [i, miner] of miners.entries()) {
      const signed = receipt.miners.find((m) => m.address === miner);
      expect(signed?.signature, miner).toMatch(/^0x/);
      expect(results[i]).toBe(signed?.output);
    }

    // Every transaction of the router's account since the submission, decoded: exactly one names this task, and it ended it.
    // (The router's first write-back on a chain is preceded by its one-time declareResultSigner, which names no task; its
    // receipt-anchor roots go to another contract.)
    const chain = createPublicClient({ transport: http(stack.chain.rpcUrl) });
    const head = await chain.getBlockNumber();
    const forTask: { hash: Hex; functionName: string }[] = [];
    for (let n = BigInt(submittedFrom) + 1n; n <= head; n++) {
      const block = await chain.getBlock({ blockNumber: n, includeTransactions: true });
      for (const t of block.transactions) {
        if (t.from.toLowerCase() !== ROUTER.toLowerCase()) continue;
        if (t.to?.toLowerCase() !== SESSION_QUEUE_V2_ADDRESS.toLowerCase()) continue;
        const call = decodeFunctionData({ abi: sessionQueueV2Abi, data: t.input });
        if (namesTask(call, BigInt(sessionId), taskId)) forTask.push({ hash: t.hash, functionName: call.functionName });
      }
    }
    expect(forTask).toHaveLength(1);
    expect(["recordTask", "recordTasks"]).toContain(forTask[0]?.functionName);
    const receiptOnChain = await chain.getTransactionReceipt({ hash: forTask[0]?.hash as Hex });
    const ended = await chain.getContractEvents({
      address: SESSION_QUEUE_V2_ADDRESS as Address,
      abi: sessionQueueV2Abi,
      eventName: "TaskEnded",
      blockHash: receiptOnChain.blockHash,
    });
    expect(ended.map((e) => ({ tx: e.transactionHash, ...(e.args as { sessionId: bigint; taskId: bigint }) }))).toContainEqual(
      expect.objectContaining({ tx: forTask[0]?.hash, sessionId: BigInt(sessionId), taskId }),
    );
    provider.destroy();
  });

  it("reverts a result recorded under a dev miner's address without its signature, writing nothing", async () => {
    const chain = createPublicClient({ transport: http(stack.chain.rpcUrl) });
    const provider = new ethers.JsonRpcProvider(stack.chain.rpcUrl);
    // Two transactions in a row: the nonce counted here, not read back from a provider that caches it.
    const owner = new ethers.NonceManager(new ethers.Wallet(OWNER_KEY, provider));
    const ownerAddress = await owner.getAddress();
    // A second hybrid session, which this router does not serve: its task stays Queued for the forger.
    const sessions = new ethers.Contract(stack.chain.sessionAddress, sessionV2Abi, owner) as unknown as SessionCalls;
    await (await sessions.create("not served", "", ownerAddress, 1, 1, 1, 0, 1, false)).wait();
    const sessionId = BigInt((await sessions.getSessions(ownerAddress)).at(-1)?.id ?? -1n);
    const queue = new ethers.Contract(stack.chain.queueAddress, sessionQueueV2Abi, owner) as unknown as QueueCalls;
    await (await queue.submitTask(sessionId, "forge me")).wait();

    const miner = DEV_MINER_ADDRESSES[0] as Address;
    const requestHash = "cd".repeat(32);
    const claim = { router: ROUTER, edgeSessionId: 1n, edgeTaskId: 9n, requestHash: `0x${requestHash}` as Hex };
    const forged = await privateKeyToAccount(generatePrivateKey()).signMessage({
      message: resultMessage({ router: ROUTER, sessionId: 1, taskId: 9, requestHash, outputHash: sha256(stringToHex("forged")).slice(2) }),
    });
    for (const signature of [forged, "0x" as Hex]) {
      await expect(
        chain.simulateContract({
          account: ROUTER,
          address: stack.chain.queueAddress as Address,
          abi: sessionQueueV2Abi,
          functionName: "recordTask",
          args: [sessionId, 0n, claim, [{ miner, result: "forged", signature }]],
        }),
      ).rejects.toThrow(/result not signed by its miner/);
    }
    const [miners] = await queue.getTaskResults(sessionId, 0);
    expect(miners).toEqual([]);
    expect((await queue.getTasksBySessionId(sessionId))[0]?.status).toBe(0n);
    provider.destroy();
  });
});

describe("npm run chain -- claim against npm run dev", () => {
  const claims = async () => {
    const res = await fetch(`${stack.origin}/neuroshard/api/v1/wallet/claims`, { headers: { authorization: `Bearer ${DEV_CUSTOMER_KEY}` } });
    expect(res.status, await res.clone().text()).toBe(200);
    return WalletClaimsSchema.parse(await res.json());
  };
  /** The README's command, as a user types it (the chain named by the documented CHAIN_* variables: this stack writes no .wrangler/dev-chain.json). */
  const claimCommand = async (keyFile: string) => {
    const { chain } = stack;
    const child = await run("npm", ["run", "chain", "--", "claim", "--key-file", keyFile, "--router", stack.origin, "--api-key", DEV_CUSTOMER_KEY], {
      cwd: ROOT,
      env: { ...process.env, CHAIN_RPC_URL: chain.rpcUrl, CHAIN_ID: String(chain.chainId), CHAIN_SESSION_ADDRESS: chain.sessionAddress, CHAIN_QUEUE_ADDRESS: chain.queueAddress },
    }).catch((err: { code?: number; stdout?: string; stderr?: string }) => {
      throw new Error(`npm run chain -- claim exited ${err.code}: ${err.stdout}\n${err.stderr}`);
    });
    // npm prints its "> script" lines first; the command's answer is the JSON after them.
    const json = child.stdout.slice(child.stdout.indexOf("\n{") + 1);
    return { out: JSON.parse(json) as { address: string; paid_micros: number; transaction: string | null; claimed_micros: number; balance_micros: number }, stderr: child.stderr };
  };

  it("a dev miner claims, with the README's command, exactly what the ledger says it earned and settled; a second run pays 0 and sends nothing", async () => {
    // Real tasks on session 1 (redundancy 3 of the dev miners), with the router key the banner prints.
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${stack.origin}/api/v1/completions/1`, {
        method: "POST",
        headers: { authorization: `Bearer ${DEV_ROUTER_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ prompt: `earn ${i}`, timeout: 30 }),
      });
      expect(res.status, await res.clone().text()).toBe(200);
    }

    // The signing dev miners pay out to the dev customer: its key reads their claims. Wait until one
    // that earned is in a posted epoch with all it earned (rewards are credited as outcome reports flush).
    const claim = await vi.waitFor(
      async () => {
        const c = (await claims()).claims.find((m) => m.earned_micros > 0 && m.claim !== null && m.unposted_micros === 0 && m.posted_micros === m.earned_micros);
        expect(c).toBeDefined();
        return c!;
      },
      { timeout: 60_000, interval: 1_000 },
    );
    expect(claim).toMatchObject({ settled_micros: claim.earned_micros, claimed_micros: 0, unclaimed_micros: claim.earned_micros });

    const keyFile = join(stack.minerKeyDir, `${claim.miner_id}.key`);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const address = privateKeyToAccount(devMinerKey(claim.miner_id)).address;
    expect(address.toLowerCase()).toBe(claim.address);

    const first = await claimCommand(keyFile);
    expect(first.out).toMatchObject({ address, paid_micros: claim.settled_micros, claimed_micros: claim.settled_micros, balance_micros: claim.settled_micros });
    expect(first.out.transaction).toMatch(/^0x[0-9a-f]{64}$/);

    // The chain, read directly: the RewardToken balance is what the ledger settled.
    const client = createPublicClient({ transport: http(stack.chain.rpcUrl) });
    const balance = () => client.readContract({ address: stack.chain.tokenAddress as Address, abi: rewardTokenAbi, functionName: "balanceOf", args: [address] });
    expect(await balance()).toBe(BigInt(claim.settled_micros));
    const after = (await claims()).claims.find((m) => m.miner_id === claim.miner_id);
    expect(after).toMatchObject({ claimed_micros: claim.settled_micros, unclaimed_micros: 0 });

    // Again: nothing left, no transaction sent.
    const nonce = await client.getTransactionCount({ address });
    const second = await claimCommand(keyFile);
    expect(second.out).toMatchObject({ address, paid_micros: 0, transaction: null, claimed_micros: claim.settled_micros, balance_micros: claim.settled_micros });
    expect(second.stderr).toContain("nothing left to claim");
    expect(await client.getTransactionCount({ address })).toBe(nonce);
    expect(await balance()).toBe(BigInt(claim.settled_micros));
  }, 120_000);
});

/** Whether a decoded SessionQueueV2 call writes task (session, task). */
function namesTask(call: { functionName: string; args?: readonly unknown[] }, sessionId: bigint, taskId: bigint): boolean {
  const args = call.args ?? [];
  if (call.functionName === "recordTasks") return (args[0] as { sessionId: bigint; taskId: bigint }[]).some((r) => r.sessionId === sessionId && r.taskId === taskId);
  return args[0] === sessionId && args[1] === taskId;
}
