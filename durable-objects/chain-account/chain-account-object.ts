import { DurableObject } from "cloudflare:workers";
import { isAddressEqual, type Address } from "viem";
import { AccountSender, type SenderState, type SendOutcome, type TxRequest, type TxSender } from "../../domain/chain/account-sender";
import type { RpcTarget } from "../../domain/chain/chain-clients";
import { chainSignerKey, type Vars } from "../../domain/config/config";
import { chainAccountStub } from "../../domain/objects/stubs";

/**
 * The one sender of the router's chain account (secret CHAIN_SIGNER_KEY) on
 * one chain: one object per (chain id, address), `chainAccountStub`. The
 * Chain index's write-back, the receipt anchor instance and the rewards
 * instance each send through it, so their transactions take consecutive
 * nonces instead of each reading the same pending nonce and colliding
 * (domain/chain/account-sender.ts says how it assigns them). It holds the
 * key (from its env, never given over RPC) and stores nothing: a woken
 * object reads the nonce from the chain again.
 */
export class ChainAccountObject extends DurableObject<Vars> {
  #sender: AccountSender | null = null;

  /**
   * Sends `tx` from `account` to `target`'s chain and waits for its receipt.
   * Refuses an account whose key this deployment does not hold (a
   * CHAIN_SIGNER_KEY changed under a caller), and a target on another chain
   * than the object's (its name carries the chain id).
   */
  async send(account: Address, target: RpcTarget, tx: TxRequest): Promise<SendOutcome> {
    const key = chainSignerKey(this.env);
    if (!key) return { ok: false, kind: "rejected", error: "CHAIN_SIGNER_KEY is not set" };
    if (!this.#sender || !isAddressEqual(this.#sender.address, account)) {
      const sender = new AccountSender(key);
      if (!isAddressEqual(sender.address, account)) return { ok: false, kind: "rejected", error: `this router's chain account is ${sender.address}, not ${account}` };
      this.#sender = sender;
    }
    return this.#sender.send(target, tx);
  }

  /** The sender's nonce and counts (tests, operators); null: nothing sent since the object woke. */
  senderState(): SenderState | null {
    return this.#sender?.state() ?? null;
  }
}

/** What reaches the chain accounts' objects. */
export type ChainAccountEnv = Vars & { CHAIN_ACCOUNTS: DurableObjectNamespace<ChainAccountObject> };

/** The sender of `address` (CHAIN_SIGNER_KEY's account) on `chainId`: its object, which every Durable Object sending from that account shares. */
export function accountSender(env: ChainAccountEnv, chainId: number, address: Address): TxSender {
  const stub = chainAccountStub(env, chainId, address);
  return { address, send: (target, tx) => stub.send(address, target, tx) };
}
