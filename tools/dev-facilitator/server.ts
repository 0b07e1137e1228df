/**
 * A local x402 facilitator on loopback, a TEST DOUBLE of a real one: there
 * is no chain here, so it checks what a facilitator checks before it would
 * send the transaction (the EIP-3009 TransferWithAuthorization signature
 * with viem, payee, amount, validity window, an unused nonce) and records a
 * settlement instead of submitting it. Tests read the settlements it made.
 * `POST /refuse-settlement {"payer", "refuse"}` makes settlements of one
 * payer fail (as an emptied balance or a cancelled authorization would on
 * chain) while its payments still verify.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { getAddress, verifyTypedData, type Address, type Hex } from "viem";

type Requirements = { scheme: string; network: string; amount: string; asset: Address; payTo: Address; extra?: { name?: string; version?: string } };
type Payload = {
  x402Version: number;
  payload: { signature: Hex; authorization: { from: Address; to: Address; value: string; validAfter: string; validBefore: string; nonce: Hex } };
};

const TYPES = {
  TransferWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "bytes32" },
  ],
} as const;

async function readJson(req: IncomingMessage): Promise<{ paymentPayload: Payload; paymentRequirements: Requirements }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

async function check(payload: Payload, req: Requirements, usedNonces: Set<string>): Promise<string | null> {
  const auth = payload.payload?.authorization;
  if (!auth || !payload.payload.signature) return "invalid_payload";
  if (req.scheme !== "exact") return "unsupported_scheme";
  if (getAddress(auth.to) !== getAddress(req.payTo)) return "invalid_exact_evm_payload_recipient_mismatch";
  if (BigInt(auth.value) < BigInt(req.amount)) return "invalid_exact_evm_payload_authorization_value";
  const now = Math.floor(Date.now() / 1000);
  if (BigInt(auth.validBefore) < BigInt(now + 6)) return "invalid_exact_evm_payload_authorization_valid_before";
  if (BigInt(auth.validAfter) > BigInt(now)) return "invalid_exact_evm_payload_authorization_valid_after";
  if (usedNonces.has(`${auth.from.toLowerCase()}:${auth.nonce}`)) return "invalid_exact_evm_payload_authorization_nonce_used";
  const ok = await verifyTypedData({
    address: auth.from,
    domain: { name: req.extra?.name ?? "USDC", version: req.extra?.version ?? "2", chainId: Number(req.network.split(":")[1]), verifyingContract: req.asset },
    types: TYPES,
    primaryType: "TransferWithAuthorization",
    message: { from: auth.from, to: auth.to, value: BigInt(auth.value), validAfter: BigInt(auth.validAfter), validBefore: BigInt(auth.validBefore), nonce: auth.nonce },
    signature: payload.payload.signature,
  }).catch(() => false);
  return ok ? null : "invalid_exact_evm_payload_signature";
}

export async function startFacilitator(network: string, listenPort = 0) {
  const used = new Set<string>();
  const refused = new Set<string>();
  const settlements: { payer: string; amount: string; payTo: string; transaction: string }[] = [];
  let verifications = 0;
  const server = createServer(async (req, res) => {
    const send = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "GET" && url.pathname === "/supported") {
      return send(200, { kinds: [{ x402Version: 2, scheme: "exact", network }], extensions: [], signers: { "eip155:*": ["0x0000000000000000000000000000000000000001"] } });
    }
    if (req.method === "GET" && url.pathname === "/activity") return send(200, { settlements, verifications });
    if (req.method === "POST" && url.pathname === "/refuse-settlement") {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const { payer, refuse } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { payer: string; refuse: boolean };
      if (refuse) refused.add(payer.toLowerCase());
      else refused.delete(payer.toLowerCase());
      return send(200, { refused: [...refused] });
    }
    if (req.method === "POST" && (url.pathname === "/verify" || url.pathname === "/settle")) {
      const { paymentPayload, paymentRequirements } = await readJson(req);
      const payer = paymentPayload?.payload?.authorization?.from;
      // A malformed payload is an invalid payment, never a crash of the facilitator.
      const problem = await check(paymentPayload, paymentRequirements, used).catch(() => "invalid_payload");
      if (url.pathname === "/verify") {
        verifications++;
        return send(200, problem ? { isValid: false, invalidReason: problem, payer } : { isValid: true, payer });
      }
      if (problem) return send(200, { success: false, errorReason: problem, payer, transaction: "", network: paymentRequirements.network });
      if (payer && refused.has(payer.toLowerCase()))
        return send(200, { success: false, errorReason: "insufficient_funds", payer, transaction: "", network: paymentRequirements.network });
      const auth = paymentPayload.payload.authorization;
      used.add(`${auth.from.toLowerCase()}:${auth.nonce}`);
      const transaction = `0x${crypto.getRandomValues(new Uint8Array(32)).reduce((s, b) => s + b.toString(16).padStart(2, "0"), "")}`;
      settlements.push({ payer: auth.from, amount: auth.value, payTo: auth.to, transaction });
      return send(200, { success: true, transaction, network: paymentRequirements.network, payer });
    }
    send(404, { error: "not found" });
  });
  await new Promise<void>((resolve) => server.listen(listenPort, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
