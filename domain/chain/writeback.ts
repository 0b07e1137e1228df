import { BaseError, ContractFunctionRevertedError, isAddressEqual, sha256, stringToHex, type Hex } from "viem";
import { chainClients } from "./chain-clients.ts";
import { privateKeyToAccount } from "viem/accounts";
import { type ChainSigner, sendContract, senderOf } from "./account-sender.ts";
import { sessionQueueV2Abi } from "../../contracts/artifacts.ts";
import type { ChainTarget } from "../config/config.ts";
import { describeError } from "./rpc.ts";
import { type AttributedRecord, chainAccountText } from "./attributed-results.ts";

/** SessionQueueV2's Status enum: Queued, Assigned, PrecommitEnded, CommitEnded, Ended. */
const ENDED = 4;

/** A write-back's outcome: the transaction (and its block) that recorded the task, null when the chain already had it Ended. */
export type WriteBackOutcome = { ok: true; steps: string[]; transaction: Hex | null; blockNumber: number | null } | { ok: false; error: string };

/** One task of a batched write-back. */
export type WriteBackTask = { sessionId: number; taskId: number; result: string; record?: AttributedRecord | undefined };

/** The record of a task the router answers under its own chain account (no receipt, or no miner signed). */
const routerRecord = (router: Hex, result: string): AttributedRecord => ({
  claim: { router, edgeSessionId: 0n, edgeTaskId: 0n, requestHash: `0x${"0".repeat(64)}` },
  answers: [{ miner: router, result, signature: "0x" }],
});

/**
 * The most gas one recordTasks may take: under EIP-7825's cap of 2^24 per
 * transaction (Osaka), with room for the 20% margin it is sent with. A task
 * at redundancy 3 with 200-character results takes about 1.3 M
 * (BENCHMARKS.md), so 16 of them would not fit in one transaction.
 */
const BATCH_GAS_CAP = 12_000_000n;

const reverted = (err: unknown) => err instanceof RevertedError || (err instanceof BaseError && !!err.walk((e) => e instanceof ContractFunctionRevertedError));
class RevertedError extends Error {}

/**
 * Writes back many answered tasks in ONE transaction
 * (SessionQueueV2.recordTasks, the project's own), one outcome per task, in
 * order. Each task's status is read on chain first, so a batch retried after
 * a lost answer writes nothing twice: a task already Ended is done, without
 * a transaction (and the contract refuses to record a task that is not
 * Queued, whatever this side believes). A task an earlier stepwise
 * write-back left half-done goes on alone, by `writeBack`. When the batch
 * reverts (one record forged, say, or a task ended meanwhile by another
 * router) the batch is halved until the record at fault is alone: it
 * fails with its own reason and the others are recorded, in a few batches.
 * A batch whose estimate passes the per-transaction gas cap is halved too. An
 * RPC failure (no answer, a timeout) fails every task of the batch with it;
 * the retry reads the chain again.
 */
export async function writeBackBatch(
  target: ChainTarget,
  signer: ChainSigner,
  tasks: readonly WriteBackTask[],
  options: { resultSignerKey?: Hex | undefined } = {},
): Promise<WriteBackOutcome[]> {
  const sender = senderOf(signer);
  const account = { address: sender.address };
  const { reader } = chainClients(target);
  const write = { address: target.queueAddress, abi: sessionQueueV2Abi } as const;
  const outcomes: (WriteBackOutcome | null)[] = tasks.map(() => null);
  const alone = (i: number) => {
    const t = tasks[i] as WriteBackTask;
    return writeBack(target, sender, t, { record: t.record, resultSignerKey: options.resultSignerKey });
  };
  try {
    // Each task's status on chain, one read per session.
    const sessions = new Map<number, readonly { status: number }[]>();
    for (const t of tasks) {
      if (!sessions.has(t.sessionId)) sessions.set(t.sessionId, await reader.readContract({ ...write, functionName: "getTasksBySessionId", args: [BigInt(t.sessionId)] }));
    }
    const queued: number[] = [];
    for (const [i, t] of tasks.entries()) {
      const onChain = sessions.get(t.sessionId)?.[t.taskId];
      if (!onChain) outcomes[i] = { ok: false, error: `task ${t.taskId} of session ${t.sessionId} is not on chain` };
      else if (onChain.status === ENDED) outcomes[i] = { ok: true, steps: [], transaction: null, blockNumber: null };
      else if (onChain.status !== 0) outcomes[i] = await alone(i);
      else queued.push(i);
    }
    // Records signed for the router's receipt identity need it declared for this chain account, once.
    const records = new Map(queued.map((i) => [i, tasks[i]?.record ?? routerRecord(account.address, tasks[i]?.result ?? "")]));
    const claimed = [...new Set([...records.values()].map((r) => r.claim.router.toLowerCase()))].filter((r) => r !== account.address.toLowerCase());
    for (const router of claimed) {
      const declared = await reader.readContract({ ...write, functionName: "resultSigner", args: [account.address] });
      if (declared.toLowerCase() === router) continue;
      const key = options.resultSignerKey;
      const signer = key ? privateKeyToAccount(key) : null;
      if (!signer || signer.address.toLowerCase() !== router) {
        for (const i of queued)
          if (records.get(i)?.claim.router.toLowerCase() === router)
            outcomes[i] = { ok: false, error: `the miners signed for router ${router}, whose key this write-back does not hold` };
        continue;
      }
      const proof = await signer.signMessage({ message: chainAccountText(account.address) });
      const sent = await sendContract(sender, target, { ...write, functionName: "declareResultSigner", args: [signer.address, proof] });
      if (sent.status !== "success") throw new Error(`declareResultSigner reverted in ${sent.hash}`);
    }
    const entry = (i: number) => {
      const r = records.get(i) as AttributedRecord;
      const t = tasks[i] as WriteBackTask;
      return { sessionId: BigInt(t.sessionId), taskId: BigInt(t.taskId), claim: r.claim, results: r.answers };
    };
    /**
     * Sends `batch` as one recordTasks when its gas estimate passes and fits
     * under BATCH_GAS_CAP; otherwise halves it and sends each half the same
     * way, so a record the contract refuses ends alone (its own recordTask,
     * failing with its reason) while the rest go in a few batches.
     */
    const send = async (batch: number[]): Promise<void> => {
      if (batch.length === 0) return;
      if (batch.length === 1) {
        outcomes[batch[0] as number] = await alone(batch[0] as number);
        return;
      }
      const args = [batch.map(entry)] as const;
      let gas: bigint | null = null;
      try {
        gas = await reader.estimateContractGas({ ...write, account: account.address, functionName: "recordTasks", args });
      } catch (err) {
        if (!reverted(err) && !/gas/i.test(describeError(err))) throw err;
      }
      if (gas === null || gas > BATCH_GAS_CAP) {
        const half = Math.ceil(batch.length / 2);
        await send(batch.slice(0, half));
        await send(batch.slice(half));
        return;
      }
      try {
        const sent = await sendContract(sender, target, { ...write, functionName: "recordTasks", args }, gas + gas / 5n);
        if (sent.status !== "success") throw new RevertedError(`recordTasks reverted in ${sent.hash}`);
        for (const i of batch) outcomes[i] = { ok: true, steps: ["recordTasks"], transaction: sent.hash, blockNumber: sent.blockNumber };
      } catch (err) {
        if (!reverted(err)) throw err;
        // Reverted after its estimate passed (a task ended meanwhile, say): each task alone, each re-reading its status first.
        for (const i of batch) outcomes[i] = await alone(i);
      }
    };
    await send(queued.filter((i) => outcomes[i] === null));
    return outcomes.map((o) => o ?? { ok: false, error: "not written back" });
  } catch (err) {
    const error = describeError(err);
    return outcomes.map((o) => o ?? { ok: false, error });
  }
}

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
  signer: ChainSigner,
  task: { sessionId: number; taskId: number; result: string },
  attribution: { record?: AttributedRecord | undefined; resultSignerKey?: Hex | undefined } = {},
): Promise<WriteBackOutcome> {
  const sender = senderOf(signer);
  const account = { address: sender.address };
  const { reader } = chainClients(target);
  const address = target.queueAddress;
  const sessionId = BigInt(task.sessionId);
  const taskId = BigInt(task.taskId);
  const steps: string[] = [];
  let last: { transaction: Hex; blockNumber: number } | null = null;
  const done = () => ({ ok: true as const, steps, transaction: last?.transaction ?? null, blockNumber: last?.blockNumber ?? null });

  // Each step names its call literally, so viem types its arguments against the ABI.
  const write = { address, abi: sessionQueueV2Abi } as const;
  // Its gas estimated first, so a step the contract refuses fails with the contract's reason before anything is sent.
  const send = async (functionName: string, args: readonly unknown[]) => {
    const sent = await sendContract(sender, target, { ...write, functionName, args });
    if (sent.status !== "success") throw new Error(`${functionName} reverted in ${sent.hash}`);
    steps.push(functionName);
    last = { transaction: sent.hash, blockNumber: sent.blockNumber };
  };
  const status = async () => {
    const tasks = await reader.readContract({ address, abi: sessionQueueV2Abi, functionName: "getTasksBySessionId", args: [sessionId] });
    const onChain = tasks[task.taskId];
    if (!onChain) throw new Error(`task ${task.taskId} of session ${task.sessionId} is not on chain`);
    return { status: onChain.status, miners: onChain.miners };
  };

  try {
    let current = await status();
    if (current.status === ENDED) return done();
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
          await send("declareResultSigner", [signer.address, proof]);
        }
      }
      await send("recordTask", [sessionId, taskId, record.claim, record.answers]);
      return done();
    }
    // From here: a task an earlier stepwise write-back assigned to this router's account.
    if (!current.miners.some((m) => m.toLowerCase() === account.address.toLowerCase())) {
      return { ok: false, error: `the task is assigned to ${current.miners.join(", ")}, not to this router's account ${account.address}` };
    }
    if (current.status === 1) {
      const hashed = sha256(stringToHex(task.result));
      await send("precommitTask", [sessionId, taskId, account.address, hashed]).catch((err) => {
        // Precommitted by an earlier attempt that failed after it: go on.
        if (!(err instanceof BaseError && err.walk((e) => e instanceof ContractFunctionRevertedError && /already precommitted/.test(e.message)))) throw err;
      });
      await send("endPrecommit", [sessionId, taskId]);
      current = await status();
    }
    if (current.status === 2) {
      const [committed] = await reader.readContract({ address, abi: sessionQueueV2Abi, functionName: "getTaskResults", args: [sessionId, taskId] });
      if (!committed.some((m) => m.toLowerCase() === account.address.toLowerCase())) {
        await send("commitTask", [sessionId, taskId, account.address, task.result]);
      }
      await send("endCommit", [sessionId, taskId]);
      current = await status();
    }
    if (current.status === 3) await send("endTask", [sessionId, taskId]);
    return done();
  } catch (err) {
    return { ok: false, error: describeError(err) };
  }
}
