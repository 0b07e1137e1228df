import { BaseError, ContractFunctionRevertedError, createWalletClient, isAddressEqual, sha256, stringToHex, type Hex } from "viem";
import { chainClients } from "./chain-clients.ts";
import { privateKeyToAccount } from "viem/accounts";
import { sessionQueueV2Abi } from "../../contracts/artifacts.ts";
import type { ChainTarget } from "../config/config.ts";
import { describeError } from "./rpc.ts";
import { type AttributedRecord, chainAccountText } from "./attributed-results.ts";

/** SessionQueueV2's Status enum: Queued, Assigned, PrecommitEnded, CommitEnded, Ended. */
const ENDED = 4;

/**
 * Records a hybrid task's results on the queue contract, sent from the
 * router's chain account. A queued task is recorded from assignment to end
 * in ONE transaction (SessionQueueV2.recordTask, the project's own): each
 * result under the address of the miner that signed it, with that signature,
 * which the contract checks (`attributed-results.ts` says which results and
 * what stands for an unsigned one); getTaskResults then names the miners and
 * the seed's per-miner events (TaskAcked, TaskPrecommitted, TaskCommitted)
 * carry their addresses. Before its first such record the chain account
 * declares, once, the router identity miners sign for (`resultSignerKey`,
 * the receipt-signing key). A task an earlier stepwise write-back left
 * half-done goes on step by step (assign to the router's own account,
 * precommit, end precommit, commit, end commit, end). Every path starts from
 * the task's state on chain, so a write-back retried after a failure never
 * writes a step twice.
 */
export async function writeBack(
  target: ChainTarget,
  signerKey: Hex,
  task: { sessionId: number; taskId: number; result: string },
  attribution: { record?: AttributedRecord | undefined; resultSignerKey?: Hex | undefined } = {},
): Promise<{ ok: true; steps: string[] } | { ok: false; error: string }> {
  const account = privateKeyToAccount(signerKey);
  const { chain, transport, reader } = chainClients(target);
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
      const record: AttributedRecord = attribution.record ?? {
        claim: { router: account.address, edgeSessionId: 0n, edgeTaskId: 0n, requestHash: `0x${"0".repeat(64)}` },
        answers: [{ miner: account.address, result: task.result, signature: "0x" }],
      };
      if (!isAddressEqual(record.claim.router, account.address)) {
        const declared = await reader.readContract({ ...write, functionName: "resultSigner", args: [account.address] });
        if (!isAddressEqual(declared, record.claim.router)) {
          const key = attribution.resultSignerKey;
          const signer = key ? privateKeyToAccount(key) : null;
          if (!signer || !isAddressEqual(signer.address, record.claim.router))
            return { ok: false, error: `the miners signed for router ${record.claim.router}, whose key this write-back does not hold` };
          const proof = await signer.signMessage({ message: chainAccountText(account.address) });
          await send("declareResultSigner", wallet.writeContract({ ...write, functionName: "declareResultSigner", args: [signer.address, proof] }));
        }
      }
      await send("recordTask", wallet.writeContract({ ...write, functionName: "recordTask", args: [sessionId, taskId, record.claim, record.answers] }));
      return { ok: true, steps };
    }
    // From here: a task an earlier stepwise write-back assigned to this router's account.
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
