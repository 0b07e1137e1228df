import type { Hex } from "viem";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { receiptMessage } from "./canonical.ts";
import type { Receipt, ReceiptBody } from "./receipt-schema.ts";

const accounts = new Map<Hex, PrivateKeyAccount>();

/** The router's signer for a key (ROUTER_SIGNER_KEY): deriving the address costs a curve multiplication, so it is kept per isolate. */
export function routerSigner(key: Hex): PrivateKeyAccount {
  let account = accounts.get(key);
  if (!account) {
    account = privateKeyToAccount(key);
    accounts.set(key, account);
  }
  return account;
}

/** A receipt body signed by the router. */
export async function signReceipt(body: ReceiptBody, signer: PrivateKeyAccount): Promise<Receipt> {
  return { ...body, router_signature: await signer.signMessage({ message: await receiptMessage(body) }) };
}
