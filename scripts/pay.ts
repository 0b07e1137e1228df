/**
 * `npm run pay -- [path] [json body]`: one paid request end to end against
 * `npm run dev`, with a throwaway wallet and @x402/fetch: the router answers
 * 402, the client signs the payment, the dev facilitator verifies and
 * settles it, the router does the work. Example:
 *   npm run pay -- /api/v1/x402/completions '{"session_id": 0, "prompt": "Hello"}'
 */
import { ExactEvmScheme } from "@x402/evm";
import { wrapFetchWithPaymentFromConfig } from "@x402/fetch";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

const origin = process.env["ROUTER_URL"] ?? "http://localhost:5010";
const [path = "/api/v1/x402/ping", body] = process.argv.slice(2);
const account = privateKeyToAccount(generatePrivateKey());
const pay = wrapFetchWithPaymentFromConfig(fetch, { schemes: [{ network: "eip155:84532", client: new ExactEvmScheme(account) }] });

const res = await pay(`${origin}${path}`, body ? { method: "POST", headers: { "content-type": "application/json" }, body } : {});
console.log(`payer ${account.address}`);
console.log(`HTTP ${res.status}`);
const receipt = res.headers.get("PAYMENT-RESPONSE");
if (receipt) console.log(`settlement ${atob(receipt)}`);
console.log(await res.text());
