import { sha256Hex } from "../crypto/sha256.ts";
import type { MinerRequest } from "../schemas/completion.ts";
import type { MinerTarget } from "../schemas/miner.ts";
import type { CallMinerOptions, MinerOutput, SignatureStatus } from "./miner-output.ts";
import { MinerCallError } from "./miner-error.ts";
import { isSignedBy, type ResultClaim, signHeaders } from "./result-signature.ts";

/**
 * A session's `signatures` setting. off: miners are not asked to sign.
 * prefer (the default): every miner is asked; a result without a signature,
 * or from a miner with no registered address, is accepted and marked
 * `unsigned`. require: such a result is refused. Under both, a signature
 * that does not verify is refused: a miner that signs claims authorship, and
 * a false claim is worse than none. A refused result is the miner's failure
 * (fault "miner"): it is never counted in consensus, the miner is replaced
 * while time remains, and its reputation falls.
 */
export type SignaturePolicy = "off" | "prefer" | "require";

type Call = (target: MinerTarget, request: MinerRequest, options: Pick<CallMinerOptions, "signal" | "onAck" | "onDelta" | "headers">) => Promise<MinerOutput>;

/**
 * Wraps a task's miner calls: asks each miner to sign (request headers) and
 * checks what comes back against the miner's registered address with viem.
 */
export function signedCalls(policy: SignaturePolicy, task: Omit<ResultClaim, "outputHash">, call: Call): Call {
  if (policy === "off") return call;
  const headers = signHeaders(task);
  return async (target, request, { onDelta, ...options }) => {
    // Under require no text reaches a client before its signature checked out: the miner is not asked to stream
    // (a live stream then answers once the task is decided, as stream_policy "consensus" does).
    const output = await call(target, request, { ...options, ...(policy === "prefer" && onDelta ? { onDelta } : {}), headers });
    // A result with nothing to check is judged at once, with no promise of its own.
    const { signature } = output;
    const address = target.address;
    const signatureStatus = signature === undefined || !address ? unsigned(policy, target) : await checkSignature(task, target, address, signature, output.text);
    return { ...output, signatureStatus };
  };
}

/** A result with no signature, or from a miner with no registered address: refused under require. */
function unsigned(policy: Exclude<SignaturePolicy, "off">, target: MinerTarget): SignatureStatus {
  if (policy === "require") {
    throw new MinerCallError("invalid_response", target.address ? `miner ${target.id} sent no result signature` : `miner ${target.id} has no registered address to sign with`);
  }
  return "unsigned";
}

async function checkSignature(task: Omit<ResultClaim, "outputHash">, target: MinerTarget, address: string, signature: string, text: string): Promise<SignatureStatus> {
  const claim = { ...task, outputHash: await sha256Hex(text) };
  if (!(await isSignedBy(claim, signature, address))) {
    throw new MinerCallError("invalid_response", `miner ${target.id} sent a result signature that is not its registered address's signature of this result`);
  }
  return "valid";
}
