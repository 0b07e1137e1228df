import { type Abi, type Address, BaseError, createWalletClient, encodeFunctionData, type Hex, HttpRequestError, keccak256, TimeoutError } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { chainClients, type RpcTarget } from "./chain-clients.ts";
import { describeError } from "./rpc.ts";

/** A transaction to send: built by the caller with viem's `encodeFunctionData`; `gas` from the caller's estimate (which reports a revert's reason). */
export type TxRequest = { to: Address; data: Hex; gas?: bigint | undefined };

/** A transaction mined (successfully or reverted), with the nonce the sender gave it. */
export type SentTx = { ok: true; hash: Hex; nonce: number; status: "success" | "reverted"; blockNumber: number; gasUsed: bigint };

/**
 * A send that did not end in a receipt:
 * - `nonce`: the node refused the nonce (too low, taken by a pending transaction) even after the sender re-read it;
 * - `rejected`: the node refused the transaction for another reason (funds, fees…): nothing was broadcast;
 * - `lost`: the broadcast's answer never came, or its receipt did not within the timeout: it may be on chain, or
 *   land later. The caller re-reads the chain before it tries again (as every caller does), never the sender.
 */
export type SendFailure = { ok: false; kind: "nonce" | "rejected" | "lost"; error: string; hash?: Hex };
export type SendOutcome = SentTx | SendFailure;

/** Whatever sends an account's transactions: its Durable Object (durable-objects/chain-account/), or an `AccountSender` of its own. */
export interface TxSender {
  readonly address: Address;
  send(target: RpcTarget, tx: TxRequest): Promise<SendOutcome>;
}

/** What the chain code sends with: an account's sender, or a bare key (scripts and tests: a sender of its own for the one call, as before). */
export type ChainSigner = Hex | TxSender;
export const senderOf = (signer: ChainSigner): TxSender => (typeof signer === "string" ? new AccountSender(signer) : signer);

export type SenderState = { next_nonce: number | null; in_flight: number[]; broadcasts: number; nonce_refusals: number };

/** Transactions a send may re-read its nonce for before it gives up with `nonce`. */
const NONCE_ATTEMPTS = 3;

/** The node's ways of saying the nonce is not free (geth, Hardhat/EDR, Anvil, Nethermind). */
export function isNonceError(err: unknown): boolean {
  const text = err instanceof BaseError ? `${err.shortMessage} ${err.details ?? ""} ${err.message}` : err instanceof Error ? err.message : String(err);
  return /nonce too (low|high)|nonce.*(lower|higher) than|already known|replacement transaction underpriced|same nonce|known transaction|transaction underpriced/i.test(text);
}

/** The broadcast's answer never came (a timeout, a connection dropped, an HTTP error): the transaction may have been broadcast. */
const answerLost = (err: unknown) => err instanceof BaseError && !!err.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError);

/**
 * Sends one account's transactions, assigning their nonces itself. Nonce
 * assignment, signing and broadcast run one send at a time (a promise
 * chain), so two sends never take the same nonce; waiting for receipts does
 * not hold the line, so transactions sent together land in the same block,
 * with consecutive nonces. The nonce is read from the chain
 * (`getTransactionCount`, pending) when the sender has none, when none of
 * its transactions is in flight (so that one sent by another client of the
 * key, or a chain rewound, is seen), and after a nonce error (then the send
 * is signed again with the nonce read). Any other failure forgets the nonce,
 * so a transaction that never left leaves no gap. Memory only: an object
 * evicted starts by reading the nonce again.
 */
export class AccountSender implements TxSender {
  readonly #account;
  #next: number | null = null;
  /** Transactions broadcast, and broadcasts the node refused for their nonce (operators: how often the nonce was stale). */
  #broadcasts = 0;
  #nonceRefusals = 0;
  readonly #inFlight = new Set<number>();
  #line: Promise<unknown> = Promise.resolve();

  constructor(key: Hex) {
    this.#account = privateKeyToAccount(key);
  }

  get address(): Address {
    return this.#account.address;
  }

  /** The nonce the next send takes (null: read from the chain first), what is in flight, and the counts since the sender started. */
  state(): SenderState {
    return { next_nonce: this.#next, in_flight: [...this.#inFlight].sort((a, b) => a - b), broadcasts: this.#broadcasts, nonce_refusals: this.#nonceRefusals };
  }

  /** One at a time: `step` starts after every earlier one ended. */
  #serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#line.then(step, step);
    this.#line = run.catch(() => undefined);
    return run;
  }

  async send(target: RpcTarget, tx: TxRequest): Promise<SendOutcome> {
    const { chain, transport, reader } = chainClients(target);
    const wallet = createWalletClient({ account: this.#account, chain, transport });
    const broadcast = await this.#serial(async (): Promise<{ ok: true; hash: Hex; nonce: number } | SendFailure> => {
      for (let attempt = 1; ; attempt++) {
        let hash: Hex | undefined;
        try {
          if (this.#next === null || this.#inFlight.size === 0) this.#next = await reader.getTransactionCount({ address: this.address, blockTag: "pending" });
          const nonce = this.#next;
          const request = await wallet.prepareTransactionRequest({ to: tx.to, data: tx.data, nonce, ...(tx.gas !== undefined ? { gas: tx.gas } : {}) });
          const serialized = await wallet.signTransaction(request);
          hash = keccak256(serialized);
          await wallet.sendRawTransaction({ serializedTransaction: serialized });
          this.#next = nonce + 1;
          this.#inFlight.add(nonce);
          this.#broadcasts++;
          return { ok: true, hash, nonce };
        } catch (err) {
          this.#next = null;
          if (isNonceError(err)) this.#nonceRefusals++;
          if (isNonceError(err) && attempt < NONCE_ATTEMPTS) continue;
          const kind = isNonceError(err) ? "nonce" : hash && answerLost(err) ? "lost" : "rejected";
          return { ok: false, kind, error: describeError(err), ...(kind === "lost" && hash ? { hash } : {}) };
        }
      }
    });
    if (!broadcast.ok) return broadcast;
    try {
      const receipt = await reader.waitForTransactionReceipt({ hash: broadcast.hash, pollingInterval: 250, timeout: target.rpcTimeoutMs * 3 });
      return {
        ok: true,
        hash: broadcast.hash,
        nonce: broadcast.nonce,
        status: receipt.status,
        blockNumber: Number(receipt.blockNumber),
        gasUsed: receipt.gasUsed,
      };
    } catch (err) {
      // Not mined in time: it may still be, or have been dropped; the next send reads the nonce again.
      this.#next = null;
      return { ok: false, kind: "lost", error: describeError(err), hash: broadcast.hash };
    } finally {
      this.#inFlight.delete(broadcast.nonce);
    }
  }
}

/** A send that did not end in a receipt, as an error (its message names what happened). */
export class SendError extends Error {
  override readonly name = "SendError";
  readonly failure: SendFailure;
  constructor(failure: SendFailure) {
    super(failure.error);
    this.failure = failure;
  }
}

/**
 * A contract call sent from `signer`'s account and mined. Its gas is the
 * reader's estimate (unless given), so a call the contract refuses fails
 * here with the contract's reason (viem's ContractFunctionRevertedError),
 * before anything is sent. Returns the mined transaction, whatever its
 * status; throws SendError when it did not end in a receipt.
 */
export async function sendContract(
  signer: TxSender,
  target: RpcTarget,
  call: { address: Address; abi: Abi; functionName: string; args: readonly unknown[] },
  gas?: bigint,
): Promise<SentTx> {
  const { reader } = chainClients(target);
  // viem types a call by its literal ABI and name; callers pass their contract's, this only forwards them.
  const typed = call as Parameters<typeof encodeFunctionData>[0] & { address: Address };
  const limit = gas ?? (await reader.estimateContractGas({ ...typed, account: signer.address } as Parameters<typeof reader.estimateContractGas>[0]));
  const sent = await signer.send(target, { to: call.address, data: encodeFunctionData(typed), gas: limit });
  if (!sent.ok) throw new SendError(sent);
  return sent;
}
