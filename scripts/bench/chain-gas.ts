/**
 * The gas a written-back hybrid task costs on the dev chain (tools/dev-chain,
 * Hardhat's EDR, in process): SessionQueueV2.recordTask (one transaction,
 * each result under its signing miner's address, signatures checked on
 * chain) at redundancy 1 and 3; per task when N tasks go in one
 * recordTasks (the batched write-back of the Chain index: N = 1, 4, 16 at
 * redundancy 1; 1, 4, 8 at redundancy 3); the stepwise write-back it replaces (assign, ack,
 * precommit, end precommit, commit, end commit, end: one transaction each,
 * all from the router's account) for comparison; and a receipt anchor's
 * root (ReceiptAnchor.anchor, one per batch of receipts, whatever its
 * size). Each task's result is a 200-character answer. BENCH_ONLY=chain
 * runs only this.
 */
import { type Address, type Hex, sha256, stringToHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { receiptAnchorAbi, sessionQueueV2Abi, sessionV2Abi } from "../../contracts/artifacts.ts";
import { resultMessage } from "../../domain/miners/result-signature.ts";
import { deployContracts, devChainClients } from "../../tools/dev-chain/deploy.ts";
import { startDevChain } from "../../tools/dev-chain/server.ts";
import { table } from "./report.ts";

/**
 * Tasks per recordTasks transaction measured, by redundancy: sixteen tasks at
 * redundancy 3 (about 21 M gas) pass the 2^24 gas a transaction may take
 * (EIP-7825), which is why the write-back halves such a batch.
 */
const BATCH_SIZES: Record<1 | 3, readonly number[]> = { 1: [1, 4, 16], 3: [1, 4, 8] };
const RESULT = "The answer, as a dev miner gives it: ".padEnd(200, "x");

export async function printChainGas(): Promise<Record<string, number>> {
  const chain = await startDevChain({ chainId: 31_377 });
  try {
    const [admin, owner, router] = chain.accounts as [Address, Address, Address];
    const { sessionAddress, queueAddress, anchorAddress } = await deployContracts(chain.url, chain.chainId, admin);
    const as = (from: Address) => devChainClients(chain.url, chain.chainId, from);
    const send = async (
      from: Address,
      address: Address,
      abi: typeof sessionV2Abi | typeof sessionQueueV2Abi | typeof receiptAnchorAbi,
      functionName: string,
      args: readonly unknown[],
    ) => {
      const c = as(from);
      return (await c.confirm(await c.wallet.writeContract({ address, abi, functionName, args } as never))).gasUsed;
    };
    await send(admin, sessionAddress, sessionV2Abi, "addRouter", [router, "bench router"]);
    await send(owner, sessionAddress, sessionV2Abi, "create", ["bench", "", owner, 1n, 3n, 3n, 0n, 1n, false]);
    let taskId = 0n;
    const submit = async () => {
      await send(owner, queueAddress, sessionQueueV2Abi, "submitTask", [0n, JSON.stringify({ type: "chat", message: "Hello" })]);
      return taskId++;
    };
    let edgeTask = 0;
    /** A task's record: `redundancy` fresh miners, each signing the result for this router (as domain/miners/result-signature.ts). */
    const recordOf = async (redundancy: number) => {
      const edge = edgeTask++;
      const requestHash = sha256(stringToHex(`request ${edge}`)).slice(2);
      const claim = { router, edgeSessionId: 1n, edgeTaskId: BigInt(edge), requestHash: `0x${requestHash}` as Hex };
      const outputHash = sha256(stringToHex(RESULT)).slice(2);
      const answers = await Promise.all(
        Array.from({ length: redundancy }, async () => {
          const miner = privateKeyToAccount(generatePrivateKey());
          const signature = await miner.signMessage({ message: resultMessage({ router, sessionId: 1, taskId: edge, requestHash, outputHash }) });
          return { miner: miner.address, result: RESULT, signature };
        }),
      );
      return { claim, answers };
    };

    const figures: Record<string, number> = {};
    for (const r of [1, 3]) {
      const id = await submit();
      const { claim, answers } = await recordOf(r);
      figures[`record_r${r}`] = Number(await send(router, queueAddress, sessionQueueV2Abi, "recordTask", [0n, id, claim, answers]));
    }
    for (const r of [1, 3] as const) {
      for (const n of BATCH_SIZES[r]) {
        const batch = [];
        for (let i = 0; i < n; i++) {
          const taskId = await submit();
          const { claim, answers } = await recordOf(r);
          batch.push({ sessionId: 0n, taskId, claim, results: answers });
        }
        figures[`batch${n}_r${r}_per_task`] = Math.round(Number(await send(router, queueAddress, sessionQueueV2Abi, "recordTasks", [batch])) / n);
      }
    }

    // A receipt anchor: one root per batch of receipts (its gas does not depend on how many it covers). The first
    // root of an account sets its batch counter from zero; later ones change it: both are shown.
    for (const [name, batch] of [
      ["anchor_first_root", 1n],
      ["anchor_root", 2n],
    ] as const) {
      const root = sha256(stringToHex(`receipts root ${batch}`));
      figures[name] = Number(await send(router, anchorAddress, receiptAnchorAbi, "anchor", [batch, root, 64n]));
    }

    // The stepwise write-back (before recordTask): seven transactions from the router's account.
    const id = await submit();
    const steps: [string, readonly unknown[]][] = [
      ["assignTask", [0n, id, [router]]],
      ["ackTask", [0n, id, router]],
      ["precommitTask", [0n, id, router, sha256(stringToHex(RESULT))]],
      ["endPrecommit", [0n, id]],
      ["commitTask", [0n, id, router, RESULT]],
      ["endCommit", [0n, id]],
      ["endTask", [0n, id]],
    ];
    let stepwise = 0n;
    for (const [fn, args] of steps) stepwise += await send(router, queueAddress, sessionQueueV2Abi, fn, args);
    figures["stepwise_r1_7tx"] = Number(stepwise);

    console.log("\nGas of a written-back hybrid task (dev chain; a 200-character result; signatures checked on chain)\n");
    console.log(
      table(
        ["write-back", "transactions", "gas"],
        [
          ["recordTask, redundancy 1 (1 signed result)", 1, figures["record_r1"]],
          ["recordTask, redundancy 3 (3 signed results)", 1, figures["record_r3"]],
          ...([1, 3] as const).flatMap((r) =>
            BATCH_SIZES[r].map(
              (n) => [`recordTasks, ${n} task(s) at redundancy ${r}: per task`, `1/${n}`, figures[`batch${n}_r${r}_per_task`]] as [string, string, number | undefined],
            ),
          ),
          ["stepwise (assign…end), the router's own result", 7, figures["stepwise_r1_7tx"]],
        ],
      ),
    );
    console.log("\nGas of a receipt anchor (ReceiptAnchor.anchor: one root per batch of receipts, any size)\n");
    console.log(
      table(
        ["root", "transactions", "gas"],
        [
          ["the account's first root", 1, figures["anchor_first_root"]],
          ["each later root", 1, figures["anchor_root"]],
        ],
      ),
    );
    console.log(JSON.stringify({ chain_gas: figures }));
    return figures;
  } finally {
    await chain.close();
  }
}
