import { BaseError, ContractFunctionRevertedError, createPublicClient, createWalletClient, defineChain, http, sha256, stringToHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { sessionQueueV2Abi } from "../../contracts/artifacts.ts";
import type { ChainTarget } from "../config/config.ts";
import { describeError } from "./rpc.ts";

/** SessionQueueV2's Status enum: Queued, Assigned, PrecommitEnded, CommitEnded, Ended. */
const ENDED = 4;

/**
 * Records a hybrid task's agreed result on the queue contract, signed by the
 * router's key: the router assigns the task to its own account (the edge
 * miners have no chain accounts of their own here), precommits the result's
 * SHA-256, commits the result, and ends each phase, so getTaskResults returns
 * it and TaskEnded is emitted. Every step starts from the task's state on
 * chain, so a write-back retried after a failure never writes a step twice.
 */
export async function writeBack(
  target: ChainTarget,
  signerKey: Hex,
  task: { sessionId: number; taskId: number; result: string },
): Promise<{ ok: true; steps: string[] } | { ok: false; error: string }> {
  const account = privateKeyToAccount(signerKey);
  const chain = defineChain({
    id: target.chainId,
    name: `chain-${target.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [target.rpcUrl] } },
  });
  const transport = http(target.rpcUrl, { retryCount: 0, timeout: target.rpcTimeoutMs });
  const reader = createPublicClient({ chain, transport });
  const wallet = createWalletClient({ account, chain, transport });
  const address = target.queueAddress;
  const sessionId = BigInt(task.sessionId);
  const taskId = BigInt(task.taskId);
  const steps: string[] = [];

  // Each step names its call literally, so viem types its arguments against the ABI.
  const write = { address, abi: sessionQueueV2Abi } as const;
  const send = async (functionName: string, sent: Promise<Hex>) => {
    const hash = await sent;
    const receipt = await reader.waitForTransactionReceipt({ hash, pollingInterval: 250, timeout: target.rpcTimeoutMs * 3 });
    if (receipt.status !== "success") throw new Error(`${functionName} reverted in ${hash}`);
    steps.push(functionName);
  };
  const status = async () => {
    const tasks = await reader.readContract({ address, abi: sessionQueueV2Abi, functionName: "getTasksBySessionId", args: [sessionId] });
    const onChain = tasks[task.taskId];
    if (!onChain) throw new Error(`task ${task.taskId} of session ${task.sessionId} is not on chain`);
    return { status: onChain.status, miners: onChain.miners };
  };

  try {
    let current = await status();
    if (current.status === ENDED) return { ok: true, steps };
    if (current.status === 0) {
      await send("assignTask", wallet.writeContract({ ...write, functionName: "assignTask", args: [sessionId, taskId, [account.address]] }));
      current = await status();
    }
    if (!current.miners.some((m) => m.toLowerCase() === account.address.toLowerCase())) {
      return { ok: false, error: `the task is assigned to ${current.miners.join(", ")}, not to this router's account ${account.address}` };
    }
    if (current.status === 1) {
      const hashed = sha256(stringToHex(task.result));
      await send("precommitTask", wallet.writeContract({ ...write, functionName: "precommitTask", args: [sessionId, taskId, account.address, hashed] })).catch((err) => {
        // Precommitted by an earlier attempt that failed after it: go on.
        if (!(err instanceof BaseError && err.walk((e) => e instanceof ContractFunctionRevertedError && /already precommitted/.test(e.message)))) throw err;
      });
      await send("endPrecommit", wallet.writeContract({ ...write, functionName: "endPrecommit", args: [sessionId, taskId] }));
      current = await status();
    }
    if (current.status === 2) {
      const [committed] = await reader.readContract({ address, abi: sessionQueueV2Abi, functionName: "getTaskResults", args: [sessionId, taskId] });
      if (!committed.some((m) => m.toLowerCase() === account.address.toLowerCase())) {
        await send("commitTask", wallet.writeContract({ ...write, functionName: "commitTask", args: [sessionId, taskId, account.address, task.result] }));
      }
      await send("endCommit", wallet.writeContract({ ...write, functionName: "endCommit", args: [sessionId, taskId] }));
      current = await status();
    }
    if (current.status === 3) await send("endTask", wallet.writeContract({ ...write, functionName: "endTask", args: [sessionId, taskId] }));
    return { ok: true, steps };
  } catch (err) {
    return { ok: false, error: describeError(err) };
  }
}
