/**
 * Signs a result in the router's format (domain/miners/result-signature.ts):
 * EIP-191 over the claim the router sent in its `x-cortensor-*` request
 * headers, completed with the SHA-256 of the output text. Shared by the miner
 * node and the dev miner (tools/dev-miner/sign.ts), so both sign the same way.
 */
import type { Hex } from "viem";
import { sha256Hex } from "../domain/crypto/sha256.ts";
import { claimFromHeaders, type ResultClaim, resultMessage } from "../domain/miners/result-signature.ts";

/** Anything that signs an EIP-191 message: a viem local account. */
export type MessageSigner = { signMessage(args: { message: string }): Promise<Hex> };

export type AskedClaim = Omit<ResultClaim, "outputHash">;

/** The claim a request asks to be signed (its headers), or undefined when the router asked for no signature. */
export const askedClaim = (header: (name: string) => string | undefined | null): AskedClaim | undefined => claimFromHeaders(header);

/** The signature of `text` as the result of `claim`. */
export async function signResultText(signer: MessageSigner, claim: AskedClaim, text: string): Promise<Hex> {
  return signer.signMessage({ message: resultMessage({ ...claim, outputHash: await sha256Hex(text) }) });
}
