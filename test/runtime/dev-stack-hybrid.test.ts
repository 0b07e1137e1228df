import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers } from "ethers";
import { type Address, createPublicClient, decodeFunctionData, type Hex, http, sha256, stringToHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { sessionQueueV2Abi, sessionV2Abi } from "../../contracts/artifacts.ts";
import { DEV_ADMIN_TOKEN } from "../../domain/config/dev-credentials.ts";
import { resultMessage } from "../../domain/miners/result-signature.ts";
import { type DevStack, startDevStack } from "../../scripts/dev-stack.ts";
import { freePort } from "../../scripts/ports.ts";
import { devAccountKeys } from "../../tools/dev-chain/server.ts";
import { devMinerKey } from "../../tools/dev-miner/sign.ts";

/**
 * The seed's Web3 SDK (seeds/002) against the stack of `npm run dev`
 * (scripts/dev-stack.ts, on free ports): `submitTask` on the hybrid session,
 * and `getTaskResults` names the dev miners who answered, by their own
 * registered addresses, the task Ended by ONE transaction of the router.
 */

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

describe("the seed's submitTask on the hybrid session of npm run dev", () => {
  let stack: DevStack;
  const state = mkdtempSync(join(tmpdir(), "hybrid-stack-"));
  beforeAll(async () => {
    stack = await startDevStack({ port: await freePort(), sidePorts: "ephemeral", persistTo: state, chainFile: false, cronEveryMs: 1_000 });
  }, 240_000);
  afterAll(async () => {
    await stack?.stop();
    rmSync(state, { recursive: true, force: true });
  });

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

/** Whether a decoded SessionQueueV2 call writes task (session, task). */
function namesTask(call: { functionName: string; args?: readonly unknown[] }, sessionId: bigint, taskId: bigint): boolean {
  const args = call.args ?? [];
  if (call.functionName === "recordTasks") return (args[0] as { sessionId: bigint; taskId: bigint }[]).some((r) => r.sessionId === sessionId && r.taskId === taskId);
  return args[0] === sessionId && args[1] === taskId;
}
