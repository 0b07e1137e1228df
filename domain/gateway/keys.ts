import { encodeBase64Url } from "hono/utils/encode";
import { sha256Hex } from "../crypto/sha256.ts";

export { DEV_CUSTOMER_ID, DEV_CUSTOMER_KEY } from "../config/config.ts";

/**
 * Customer keys are `csk_{customer}_{secret}`: the customer id routes the
 * request to that customer's Ledger object, which knows only the secret's
 * hash. The secret is 32 random bytes, base64url.
 */
export function newCustomerKey(customerId: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const secret = encodeBase64Url(bytes.buffer).replace(/=+$/, "");
  return `csk_${customerId}_${secret}`;
}

export function customerOfKey(key: string): string | null {
  const m = /^csk_([a-z0-9][a-z0-9-]{0,39})_[A-Za-z0-9_-]{16,128}$/.exec(key);
  return m?.[1] ?? null;
}

export const hashKey = (key: string) => sha256Hex(key);

/**
 * What may be shown of a key after issue: enough to recognise it, never the
 * secret (the secret is base64url and may itself contain `_`, so the cut is
 * counted from the customer id, which cannot).
 */
export function keyPrefix(key: string): string {
  const customer = customerOfKey(key);
  const secretStart = customer === null ? key.indexOf("_") + 1 : `csk_${customer}_`.length;
  return `${key.slice(0, secretStart + 4)}…`;
}
