import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type Address, type Hex, sha256, stringToHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { sessionQueueV2Abi } from "../../contracts/artifacts";
import { type WriteBackTask, writeBackBatch } from "../../domain/chain/writeback";
import { resultMessage } from "../../domain/miners/result-signature";
import { deployContracts } from "../../tools/dev-chain/deploy";
import { actors, chains, targetFor } from "./chain-helpers";

/**
 * Batched write-back (`writeBackBatch`): the tasks due together go in ONE
 * SessionQueueV2.recordTasks transaction; a batch retried after its answer
 * was lost or its call dropped writes no task twice (each task's status is
 * read first); a forged record makes the batch revert, and the tasks are then
 * recorded one by one, the forged one failing alone. Against fresh contracts
 * on the faulty chain, written through the fault proxy.
 */
const faulty = chains().faulty;
const router = () => privateKeyToAccount(env.CHAIN_SIGNER_KEY as Hex).address;

async function freshQueue(tasks: number) {
  const direct = { ...faulty, url: faulty.directUrl };
  const deployment = await deployContracts(direct.url, direct.chainId, direct.accounts[0] as Address);
  const chain = { ...direct, ...deployment };
  const a = actors(chain);
  await a.sessionWrite(a.admin, "addRouter", [router(), "this edge router"]);
  await a.sessionWrite(a.owner, "create", ["hybrid", "", a.owner, 1n, 1n, 1n, 0n, 1n, false]);
  for (let i = 0; i < tasks; i++) await a.queueWrite(a.owner, "submitTask", [0n, JSON.stringify({ type: "chat", message: `task ${i}` })]);
  // Written through the fault proxy; read straight from the chain.
  const target = targetFor({ ...chain, url: faulty.url }, { rpcTimeoutMs: 1_000, writeback: true });
  /** TaskEnded logs on chain, per task id. */
  const ended = async () => {
    const logs = await a.reader.getContractEvents({ address: chain.queueAddress, abi: sessionQueueV2Abi, eventName: "TaskEnded", fromBlock: BigInt(chain.startBlock) });
    const per = new Map<number, string[]>();
    for (const l of logs) {
      const id = Number((l.args as { taskId: bigint }).taskId);
      per.set(id, [...(per.get(id) ?? []), l.transactionHash]);
    }
    return per;
  };
  return { chain, a, target, ended };
}

const setFaults = (config: Record<string, unknown>) => fetch(`${faulty.url}/__faults`, { method: "POST", body: JSON.stringify(config) });
const tasksOf = (n: number): WriteBackTask[] => Array.from({ length: n }, (_, i) => ({ sessionId: 0, taskId: i, result: `answer ${i}` }));

describe("batched write-back", () => {
  it("records the tasks due together in ONE recordTasks transaction, each ended once", async () => {
    const { a, target, ended } = await freshQueue(4);
    const nonce = () => a.reader.getTransactionCount({ address: router(), blockTag: "latest" });
    const before = await nonce();
    const outcomes = await writeBackBatch(target, env.CHAIN_SIGNER_KEY as Hex, tasksOf(4));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const txs = new Set(outcomes.map((o) => (o.ok ? o.transaction : null)));
    expect(txs.size).toBe(1);
    expect(await nonce()).toBe(before + 1);
    const per = await ended();
    for (let i = 0; i < 4; i++) expect(per.get(i), `task ${i}`).toEqual([...txs]);
    expect(await a.getTaskResults(0n, 2n)).toEqual([[router()], ["answer 2"]]);
  });

  it("retried after its answer was lost, or its call dropped, writes no task twice", async () => {
    const { a, target, ended } = await freshQueue(6);
    const key = env.CHAIN_SIGNER_KEY as Hex;
    for (const [fault, tasks] of [
      ["loseAnswerTo", tasksOf(3)],
      ["dropCallTo", tasksOf(6).slice(3)],
    ] as const) {
      await setFaults({ [fault]: "eth_sendRawTransaction" });
      try {
        const first = await writeBackBatch(target, key, tasks);
        expect(
          first.every((o) => !o.ok),
          fault,
        ).toBe(true);
      } finally {
        await setFaults({});
      }
      // The retry reads each task's status first: the batch that landed unseen is not sent again; the dropped one is sent now.
      const retried = await writeBackBatch(target, key, tasks);
      expect(
        retried.every((o) => o.ok),
        JSON.stringify(retried),
      ).toBe(true);
      if (fault === "loseAnswerTo") expect(retried.map((o) => o.ok && o.transaction)).toEqual([null, null, null]);
      // And again, for good measure: nothing is sent.
      expect((await writeBackBatch(target, key, tasks)).map((o) => o.ok && o.transaction)).toEqual(tasks.map(() => null));
    }
    const per = await ended();
    for (let i = 0; i < 6; i++) expect(per.get(i)?.length, `task ${i}`).toBe(1);
    expect((await a.getTasks(0n)).every((t) => t.status === 4)).toBe(true);
  });

  it("a forged record makes the batch revert; the batch is halved until the forged one is alone, and only it fails", async () => {
    const { a, target, ended } = await freshQueue(3);
    const miner = privateKeyToAccount(generatePrivateKey()).address;
    const request = "cd".repeat(32);
    const claim = { router: router(), edgeSessionId: 9n, edgeTaskId: 1n, requestHash: `0x${request}` as Hex };
    // Signed by another key than the miner's it names.
    const signature = await privateKeyToAccount(generatePrivateKey()).signMessage({
      message: resultMessage({ router: router(), sessionId: 9, taskId: 1, requestHash: request, outputHash: sha256(stringToHex("forged")).slice(2) }),
    });
    const tasks = tasksOf(3);
    tasks[1] = { ...tasks[1], sessionId: 0, taskId: 1, result: "forged", record: { claim, answers: [{ miner, result: "forged", signature }] } };
    const outcomes = await writeBackBatch(target, env.CHAIN_SIGNER_KEY as Hex, tasks);
    expect(outcomes[0]).toMatchObject({ ok: true, steps: ["recordTask"] });
    expect(outcomes[2]).toMatchObject({ ok: true, steps: ["recordTask"] });
    expect(outcomes[1]).toMatchObject({ ok: false, error: expect.stringMatching(/result not signed by its miner/) });
    const per = await ended();
    expect([per.get(0)?.length, per.get(1)?.length, per.get(2)?.length]).toEqual([1, undefined, 1]);
    expect((await a.getTasks(0n))[1]?.status).toBe(0);
    // The forged task is still queued; its honest record later goes through.
    const honest = await writeBackBatch(target, env.CHAIN_SIGNER_KEY as Hex, [{ sessionId: 0, taskId: 1, result: "answer 1" }]);
    expect(honest[0]?.ok).toBe(true);
    expect((await ended()).get(1)?.length).toBe(1);
  });

  it("a batch whose gas passes what one transaction may take (EIP-7825) is halved: sixteen tasks at redundancy 3, each ended once, in a few transactions", async () => {
    const { a, target, ended } = await freshQueue(16);
    const result = "An answer three miners signed: ".padEnd(200, "x");
    const outputHash = sha256(stringToHex(result)).slice(2);
    const tasks: WriteBackTask[] = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const request = sha256(stringToHex(`request ${i}`)).slice(2);
        const claim = { router: router(), edgeSessionId: 11n, edgeTaskId: BigInt(i), requestHash: `0x${request}` as Hex };
        const answers = await Promise.all(
          [0, 1, 2].map(async () => {
            const miner = privateKeyToAccount(generatePrivateKey());
            const signature = await miner.signMessage({ message: resultMessage({ router: router(), sessionId: 11, taskId: i, requestHash: request, outputHash }) });
            return { miner: miner.address, result, signature };
          }),
        );
        return { sessionId: 0, taskId: i, result, record: { claim, answers } };
      }),
    );
    const outcomes = await writeBackBatch({ ...target, rpcTimeoutMs: 5_000 }, env.CHAIN_SIGNER_KEY as Hex, tasks);
    expect(
      outcomes.every((o) => o.ok),
      JSON.stringify(outcomes.find((o) => !o.ok)),
    ).toBe(true);
    const transactions = new Set(outcomes.map((o) => (o.ok ? o.transaction : null)));
    expect(transactions.size).toBeGreaterThan(1);
    expect(transactions.size).toBeLessThanOrEqual(4);
    const per = await ended();
    for (let i = 0; i < 16; i++) expect(per.get(i)?.length, `task ${i}`).toBe(1);
    expect((await a.getTaskResults(0n, 15n))[0]).toHaveLength(3);
  });
});
