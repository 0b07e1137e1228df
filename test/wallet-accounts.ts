import { privateKeyToAccount } from "viem/accounts";
import { expect } from "vitest";
import { admin, call, fetchWorker, uniq } from "./helpers";

/** Wallet accounts and EVM address proofs, for the wallet address tests (test/wallet-addresses.test.ts, test/adversarial/economy/address-capture.test.ts). */

export const BASE = "/neuroshard/api/v1/wallet";
export const UNIT = 1_000_000;
const MOVER = ["completions", "wallet:read", "wallet:move"];

export type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };
export type Sent = { transaction_id: string; from: string; to: string; to_account: string; amount: number; status: string };
export type Challenge = { nonce: string; message: string; account: string; address: string };

export async function account(balance = 10 * UNIT): Promise<{ id: string; key: string }> {
  const id = uniq("wa");
  expect((await admin("/v1/admin/customers", "POST", { id, name: id, balance_micros: balance })).status).toBe(201);
  const issued = await admin(`/v1/admin/customers/${id}/keys`, "POST", { scopes: MOVER, requests_per_minute: 100_000 });
  expect(issued.status).toBe(201);
  return { id, key: ((await issued.json()) as { key: string }).key };
}

export const post = async (path: string, key: string, json: unknown) =>
  (
    await fetchWorker(
      new Request(`http://router.test${BASE}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify(json),
      }),
      { WALLET_MOVES_PER_MINUTE: "100000" },
    )
  ).response;
export const available = async (key: string) => ((await (await call(`${BASE}/balance`, { key })).json()) as { balances: { available: number } }).balances.available;
export const conserved = async () => ((await (await admin("/api/v1/admin/ledger/conservation", "GET")).json()) as { holds: boolean }).holds;

/** Proves `privateKey`'s address for `who`'s account: a challenge, signed. Answers the registration's response. */
export async function proveAddress(who: { key: string }, privateKey: `0x${string}`, signer = privateKey) {
  const address = privateKeyToAccount(privateKey).address;
  const res = await post("/addresses/challenge", who.key, { address });
  expect(res.status).toBe(201);
  const challenge = (await res.json()) as Challenge;
  const signature = await privateKeyToAccount(signer).signMessage({ message: challenge.message });
  return { challenge, signature, response: await post("/addresses", who.key, { address, nonce: challenge.nonce, signature }) };
}

export const randomKey = () => `0x${[...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, "0")).join("")}` as const;
