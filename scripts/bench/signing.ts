/**
 * What signed results and receipts cost, in CPU, with the same code the
 * router runs (viem's secp256k1 in JavaScript; workerd runs it on the same
 * V8): a miner signing its result, the Session object checking one result's
 * signature (a redundancy-r task checks r), the router signing a receipt
 * (on its first read), and the offline verifier at redundancy 1 and 3; the
 * result check before issue 27 (viem's recovery) beside the one run now.
 * BENCH_ONLY=signing runs only this, and then the same tasks end to end with
 * signatures off and required (signing-latency.ts).
 */
import { isAddressEqual, recoverMessageAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { findAgreement } from "../../domain/consensus/agreement.ts";
import { lexicalEmbeddingSource } from "../../domain/consensus/embedding.ts";
import { forgetKeys, isEip191SignedBy } from "../../domain/crypto/eip191-check.ts";
import { sha256Hex } from "../../domain/crypto/sha256.ts";
import { isSignedBy, resultMessage } from "../../domain/miners/result-signature.ts";
import { DEV_ROUTER_SIGNER_KEY } from "../../domain/config/dev-credentials.ts";
import { RECEIPT_VERSION, type ReceiptBody } from "../../domain/receipts/receipt-schema.ts";
import { routerSigner, signReceipt } from "../../domain/receipts/router-signer.ts";
import { verifyReceipt } from "../../domain/receipts/verify-receipt.ts";
import { devMinerKey } from "../../tools/dev-miner/sign.ts";
import { table } from "./report.ts";
import { signingLatency } from "./signing-latency.ts";

const ROUNDS = Number(process.env["BENCH_SIGNING_ROUNDS"] ?? 100);
const router = routerSigner(DEV_ROUTER_SIGNER_KEY);
const miners = [1, 2, 3].map((n) => privateKeyToAccount(devMinerKey(`bench-${n}`)));
const text = "The capital of France is Paris, a city on the Seine known for its museums and cafés.";

/** Median milliseconds of each of `fns` over ROUNDS runs (after 5 warm-up runs), taken in turn so a busy machine slows them alike. */
async function medians(fns: ((i: number) => unknown)[]): Promise<number[]> {
  for (let i = 0; i < 5; i++) for (const fn of fns) await fn(i);
  const times = fns.map(() => [] as number[]);
  for (let i = 0; i < ROUNDS; i++) {
    for (const [k, fn] of fns.entries()) {
      const start = performance.now();
      await fn(i);
      times[k]?.push(performance.now() - start);
    }
  }
  return times.map((t) => {
    t.sort((a, b) => a - b);
    return Math.round((t[Math.floor(t.length / 2)] ?? 0) * 1000) / 1000;
  });
}

/** Median milliseconds of `fn` over ROUNDS runs (after 5 warm-up runs). */
async function median(fn: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 5; i++) await fn(i);
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    await fn(i);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return Math.round((times[Math.floor(times.length / 2)] ?? 0) * 100) / 100;
}

async function receiptOf(redundancy: number, taskId: number) {
  const outputHash = await sha256Hex(text);
  const claim = { router: router.address, sessionId: 1, taskId, requestHash: outputHash, outputHash };
  const agreement = await findAgreement(
    miners.slice(0, redundancy).map((_, slot) => ({ id: String(slot), text })),
    { threshold: 0.9, embeddings: lexicalEmbeddingSource },
  );
  const body: ReceiptBody = {
    version: RECEIPT_VERSION,
    router: router.address,
    session_id: 1,
    task_id: taskId,
    request_hash: outputHash,
    private: false,
    outcome: "answered",
    issued_at: new Date(0).toISOString(),
    consensus: { redundancy, quorum: Math.floor(redundancy / 2) + 1, threshold: 0.9, embedding: "lexical", signatures: "require", agreed: redundancy },
    miners: await Promise.all(
      miners.slice(0, redundancy).map(async (m, slot) => ({
        slot,
        miner_id: `bench-${slot + 1}`,
        address: m.address,
        status: "committed" as const,
        fault: null,
        counted: true,
        precommit_hash: outputHash,
        precommitted_at: new Date(0).toISOString(),
        signature: await m.signMessage({ message: resultMessage(claim) }),
        signature_status: "valid" as const,
        similarity: agreement.similarityToWinner[String(slot)] ?? null,
        agreed: true,
        output: text,
      })),
    ),
    chosen: { slot: 0, output_hash: outputHash },
  };
  return body;
}

export async function signingCosts() {
  const outputHash = await sha256Hex(text);
  const claim = (i: number) => ({ router: router.address, sessionId: 1, taskId: i, requestHash: outputHash, outputHash });
  const miner = miners[0] ?? privateKeyToAccount(devMinerKey("bench-1"));
  const signatures = await Promise.all(Array.from({ length: ROUNDS + 5 }, (_, i) => miner.signMessage({ message: resultMessage(claim(i)) })));
  const bodies = { 1: await receiptOf(1, 1), 3: await receiptOf(3, 3) };
  const signed = { 1: await signReceipt(bodies[1], router), 3: await signReceipt(bodies[3], router) };
  // Before and after issue 27: viem's recovery (what isSignedBy ran before), the first check from an address
  // (a recovery that keeps the key), and the check the hot path runs for a miner already seen (crypto/eip191-check.ts).
  const message = (i: number) => resultMessage(claim(i));
  const other = miners[1] ?? miner;
  const otherSignatures = await Promise.all(Array.from({ length: ROUNDS + 5 }, (_, i) => other.signMessage({ message: message(i) })));
  for (let i = 0; i < 10; i++) await isSignedBy(claim(i), signatures[i] ?? "", miner.address); // its key is kept from here on
  const [viemRecovery, firstCheck, checkOne] = await medians([
    async (i) => isAddressEqual(await recoverMessageAddress({ message: message(i), signature: signatures[i] ?? "0x" }), miner.address),
    (i) => {
      forgetKeys(other.address);
      return isEip191SignedBy(message(i), otherSignatures[i] ?? "", other.address);
    },
    (i) => isSignedBy(claim(i), signatures[i] ?? "", miner.address),
  ]);
  return [
    { what: "before: viem recoverMessageAddress + compare (per result)", ms: viemRecovery ?? 0 },
    { what: "after: a miner's first results (recovered until its key is kept)", ms: firstCheck ?? 0 },
    { what: "miner signs its result (miner's CPU, per result)", ms: await median((i) => miner.signMessage({ message: resultMessage(claim(i)) })) },
    { what: "after: router checks one result's signature (Session object, per result)", ms: checkOne ?? 0 },
    { what: "… per task at redundancy 1 (1 check)", ms: checkOne ?? 0 },
    { what: "… per task at redundancy 3 (3 checks)", ms: Math.round((checkOne ?? 0) * 3000) / 1000 },
    { what: "router signs a receipt, r=1 (on its first read)", ms: await median(() => signReceipt(bodies[1], router)) },
    { what: "router signs a receipt, r=3 (on its first read)", ms: await median(() => signReceipt(bodies[3], router)) },
    { what: "offline verifier, r=1 receipt (all checks)", ms: await median(() => verifyReceipt(signed[1], { router: router.address })) },
    { what: "offline verifier, r=3 receipt (all checks)", ms: await median(() => verifyReceipt(signed[3], { router: router.address })) },
  ];
}

export async function printSigningCosts() {
  const costs = await signingCosts();
  console.log(`\nsigned results and receipts: CPU per operation, median of ${ROUNDS} (Node, the same viem code workerd runs)\n`);
  console.log(
    table(
      ["operation", "ms"],
      costs.map((c) => [c.what, c.ms]),
    ),
  );
  return costs;
}

/** BENCH_ONLY=signing: the CPU figures, then the end-to-end scenarios on Miniflare. */
export async function printSigningBench(options: { port: number; requests: number; rounds: number; skipBuild: boolean }) {
  const costs = await printSigningCosts();
  const rows = await signingLatency(options);
  const off = (r: number) => rows.find((x) => x.redundancy === r && x.signatures === "off");
  console.log(`\nend to end, zero-latency signing dev miners, Miniflare: ${options.requests} sequential requests a scenario, median of ${options.rounds} round(s)\n`);
  console.log(
    table(
      ["redundancy", "signatures", "p50 ms", "rounds' p50", "added p50", "workerd CPU ms/task", "added CPU", "failed"],
      rows.map((r) => {
        const base = off(r.redundancy);
        const more = base && r !== base;
        return [
          r.redundancy,
          r.signatures,
          r.p50,
          r.p50_rounds.join(" / "),
          more ? Math.round((r.p50 - base.p50) * 100) / 100 : undefined,
          r.cpu_ms_per_task,
          more ? Math.round((r.cpu_ms_per_task - base.cpu_ms_per_task) * 100) / 100 : undefined,
          r.failures,
        ];
      }),
    ),
  );
  console.log(`\n${JSON.stringify({ signing: costs, signing_end_to_end: rows })}`);
}
