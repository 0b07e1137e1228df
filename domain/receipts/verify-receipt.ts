import { isAddress, isAddressEqual, recoverMessageAddress } from "viem";
import { findAgreement } from "../consensus/agreement.ts";
import { lexicalEmbeddingSource } from "../consensus/embedding.ts";
import { consensusStatus } from "../consensus/status.ts";
import { sha256Hex } from "../crypto/sha256.ts";
import { asSignature, isSignedBy } from "../miners/result-signature.ts";
import { receiptMessage } from "./canonical.ts";
import { type Receipt, ReceiptSchema } from "./receipt-schema.ts";
import { parseStrictJson } from "./strict-json.ts";

/** One check's verdict: passed, failed, or skipped (nothing to check it with), and why. */
export type Check = { name: string; result: "pass" | "fail" | "skip"; detail: string };
export type Verification = { ok: boolean; checks: Check[] };

export type VerifyOptions = {
  /** Output texts by slot (a private receipt's outputs, or to check against the receipt's own). */
  outputs?: Record<number, string>;
  /**
   * The router address the receipt must be signed by, from the router's
   * published anchor (`/.well-known/cortensor-router.json`, `/api/v1/about`)
   * or the operator. Unset, `router-signature` fails: a receipt checked only
   * against the address inside it proves nothing (anyone can sign one naming
   * their own key).
   */
  router?: string;
  /** The answer the client received: it must be the chosen output. */
  answer?: string;
};

/**
 * Checks a receipt with nothing but the receipt (and, optionally, the
 * outputs): the router's signature, every miner's signature, that each
 * output hashes to its precommit, that the chosen output is the one the
 * receipt names, and, with every counted output at hand and the built-in
 * lexical embedding (or identical outputs, which need none), recomputes
 * each similarity and agreement and the consensus decision with the
 * router's own code (`consensus/agreement.ts`). Each check is named, so a
 * tampered field fails exactly its check (and the router's signature, unless
 * the router itself signed the lie).
 *
 * `input` is the receipt's JSON text (read strictly: a key repeated anywhere
 * fails `format`) or a value already parsed (whose repeated keys, if any,
 * its parser dropped: pass the text where there is one).
 */
export async function verifyReceipt(input: unknown, options: VerifyOptions = {}): Promise<Verification> {
  const checks: Check[] = [];
  const add = (name: string, result: Check["result"], detail: string) => checks.push({ name, result, detail });
  const text = typeof input === "string" ? parseStrictJson(input) : { ok: true as const, value: input };
  if (!text.ok) {
    add("format", "fail", text.error);
    return { ok: false, checks };
  }
  const parsed = ReceiptSchema.safeParse(text.value);
  if (!parsed.success) {
    add("format", "fail", parsed.error.issues.map((i) => `${i.path.join(".") || "receipt"}: ${i.message}`).join("; "));
    return { ok: false, checks };
  }
  const receipt = parsed.data;
  add("format", "pass", `${receipt.version}, session ${receipt.session_id}, task ${receipt.task_id}, ${receipt.outcome}`);
  await checkRouter(receipt, options, add);
  await checkMiners(receipt, add);
  checkDistinctSigners(receipt, add);
  const outputs = await checkOutputs(receipt, options, add);
  await checkChosen(receipt, options, add);
  await recompute(receipt, outputs, add);
  return { ok: checks.every((c) => c.result !== "fail"), checks };
}

type Add = (name: string, result: Check["result"], detail: string) => void;

async function checkRouter(receipt: Receipt, options: VerifyOptions, add: Add) {
  // The anchor is added after signing, outside the signed body.
  const { router_signature: signature, anchor: _anchor, ...body } = receipt;
  const sig = asSignature(signature);
  const signer = sig ? await recoverMessageAddress({ message: await receiptMessage(body), signature: sig }).catch(() => null) : null;
  if (!signer || !isAddressEqual(signer, receipt.router as `0x${string}`)) {
    add("router-signature", "fail", `not signed by the router it names (${receipt.router}): the receipt was changed after signing, or forged`);
  } else if (!options.router) {
    add("router-signature", "fail", `signed by ${signer}, but no router address is pinned: pin the router's published signer (its /.well-known/cortensor-router.json)`);
  } else if (!isAddress(options.router, { strict: false })) {
    add("router-signature", "fail", `the pinned router ${JSON.stringify(options.router)} is not an address`);
  } else if (!isAddressEqual(signer, options.router)) {
    add("router-signature", "fail", `signed by ${signer}, not by the expected router ${options.router}`);
  } else {
    add("router-signature", "pass", `signed by ${signer} (the pinned router)`);
  }
}

async function checkMiners(receipt: Receipt, add: Add) {
  for (const m of receipt.miners.filter((x) => x.counted)) {
    const name = `miner-signature:${m.slot}`;
    if (m.signature_status !== "valid" || !m.signature || !m.precommit_hash) {
      const required = receipt.consensus.signatures === "require";
      add(name, required ? "fail" : "skip", `miner ${m.miner_id} ${required ? "counted without the signature the session required" : "did not sign (accepted unsigned)"}`);
      continue;
    }
    const claim = { router: receipt.router, sessionId: receipt.session_id, taskId: receipt.task_id, requestHash: receipt.request_hash, outputHash: m.precommit_hash };
    const ok = m.address !== null && (await isSignedBy(claim, m.signature, m.address));
    add(
      name,
      ok ? "pass" : "fail",
      ok
        ? `miner ${m.miner_id} (${m.address}) signed output ${m.precommit_hash.slice(0, 12)}…`
        : `miner ${m.miner_id}'s signature is not ${m.address ?? "its address"}'s signature of this result`,
    );
  }
}

/**
 * One address, one signer: two miners of a receipt under one address are one
 * key's holder counted twice, so their "independent" results are not.
 */
function checkDistinctSigners(receipt: Receipt, add: Add) {
  const holders = new Map<string, Set<string>>();
  for (const m of receipt.miners) {
    if (m.address) holders.set(m.address.toLowerCase(), (holders.get(m.address.toLowerCase()) ?? new Set()).add(m.miner_id));
  }
  const repeated = [...holders].filter(([, miners]) => miners.size > 1);
  if (holders.size === 0) add("distinct-signers", "skip", "no miner has a signer address");
  else if (repeated.length > 0) add("distinct-signers", "fail", repeated.map(([a, miners]) => `${a} signs for ${[...miners].join(", ")}`).join("; "));
  else add("distinct-signers", "pass", `${holders.size} signer address${holders.size === 1 ? "" : "es"}, each one miner's`);
}

/** Each output at hand against its precommit; the outputs that match, by slot. */
async function checkOutputs(receipt: Receipt, options: VerifyOptions, add: Add): Promise<Map<number, string>> {
  const matching = new Map<number, string>();
  for (const m of receipt.miners.filter((x) => x.counted)) {
    const text = options.outputs?.[m.slot] ?? m.output;
    const name = `output-hash:${m.slot}`;
    if (text === undefined) {
      add(name, "skip", `no output given for slot ${m.slot}`);
      continue;
    }
    const hash = await sha256Hex(text);
    if (hash === m.precommit_hash) {
      matching.set(m.slot, text);
      add(name, "pass", `output of slot ${m.slot} hashes to its precommit`);
    } else {
      add(name, "fail", `output of slot ${m.slot} hashes to ${hash}, not to its precommit ${m.precommit_hash}`);
    }
  }
  return matching;
}

async function checkChosen(receipt: Receipt, options: VerifyOptions, add: Add) {
  if (!receipt.chosen) {
    add("chosen-output", receipt.outcome === "answered" ? "fail" : "skip", receipt.outcome === "answered" ? "answered with no chosen output" : "no output was chosen");
    return;
  }
  const { slot, output_hash } = receipt.chosen;
  const miner = receipt.miners.find((m) => m.slot === slot);
  const problems: string[] = [];
  if (!miner?.counted) problems.push(`slot ${slot} is not a counted result`);
  else if (miner.precommit_hash !== output_hash) problems.push(`slot ${slot}'s precommit is ${miner.precommit_hash}, not the chosen ${output_hash}`);
  else if (miner.agreed !== true) problems.push(`slot ${slot} is not among those that agreed`);
  if (options.answer !== undefined && (await sha256Hex(options.answer)) !== output_hash) problems.push("the answer given is not the chosen output");
  add(
    "chosen-output",
    problems.length ? "fail" : "pass",
    problems.length ? problems.join("; ") : `slot ${slot}'s output ${output_hash.slice(0, 12)}…${options.answer !== undefined ? ", the answer given" : ""}`,
  );
}

/** Recomputes similarities, agreement and the decision from the outputs, where it can. */
async function recompute(receipt: Receipt, outputs: Map<number, string>, add: Add) {
  const counted = receipt.miners.filter((m) => m.counted);
  if (counted.length === 0) return;
  const texts = counted.map((m) => outputs.get(m.slot));
  const why = texts.some((t) => t === undefined)
    ? "not every counted output is at hand (or one does not match its precommit)"
    : receipt.consensus.embedding !== "lexical" && new Set(texts).size > 1
      ? `similarities come from embedding source ${receipt.consensus.embedding}, which only the router can query`
      : null;
  if (why) {
    add("consensus-decision", "skip", `not recomputed: ${why}`);
    return;
  }
  const agreement = await findAgreement(
    counted.map((m) => ({ id: String(m.slot), text: outputs.get(m.slot) ?? "", ...(m.probation ? { probation: true } : {}) })),
    { threshold: receipt.consensus.threshold, embeddings: lexicalEmbeddingSource },
  );
  for (const m of counted) {
    const similarity = agreement.similarityToWinner[String(m.slot)];
    add(`similarity:${m.slot}`, similarity === m.similarity ? "pass" : "fail", `recomputed ${similarity}, receipt says ${m.similarity}`);
    const agreed = agreement.agreedIds.includes(String(m.slot));
    add(`agreement:${m.slot}`, agreed === m.agreed ? "pass" : "fail", `recomputed ${agreed ? "agreed" : "disagreed"}, receipt says ${m.agreed ? "agreed" : "disagreed"}`);
  }
  const problems: string[] = [];
  if (receipt.chosen && agreement.winnerId !== String(receipt.chosen.slot))
    problems.push(`the consensus picks slot ${agreement.winnerId}, the receipt slot ${receipt.chosen.slot}`);
  if (agreement.agreedIds.length !== receipt.consensus.agreed) problems.push(`${agreement.agreedIds.length} agree, the receipt says ${receipt.consensus.agreed}`);
  // A receipt from before the status field has none to check.
  const status = consensusStatus(agreement.agreedIds.length, counted.length, receipt.consensus.redundancy);
  if (receipt.consensus.status != null && receipt.consensus.status !== status) problems.push(`the status is ${status}, the receipt says ${receipt.consensus.status}`);
  const dissenters = counted.filter((m) => !agreement.agreedIds.includes(String(m.slot))).map((m) => m.miner_id);
  add(
    "consensus-decision",
    problems.length ? "fail" : "pass",
    problems.length
      ? problems.join("; ")
      : `slot ${agreement.winnerId} chosen, ${agreement.agreedIds.length} of ${counted.length} agree${dissenters.length ? `; disagreed: ${dissenters.join(", ")}` : ""}`,
  );
}
