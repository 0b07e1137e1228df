import { describe, expect, it } from "vitest";
import { type Hex, hexToBigInt, numberToHex, parseSignature, serializeSignature } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { secp256k1 } from "@noble/curves/secp256k1";
import { type ErrorBody, joinBody, joinOk, leaveBody, node, post, randomNonce } from "./join";

/**
 * Forged, tampered, replayed and stale joins: the join route is public, so
 * the signature over the router's text (router id, every field, nonce, time)
 * is the whole of its authentication.
 */
/** The other signature of the same key over the same text: s -> n - s, the recovery bit flipped (what viem's recovery accepts). */
function highSTwin(signature: Hex): Hex {
  const { r, s, yParity } = parseSignature(signature);
  return serializeSignature({ r, s: numberToHex(secp256k1.CURVE.n - hexToBigInt(s), { size: 32 }), yParity: yParity === 0 ? 1 : 0 });
}
const codeOf = async (res: Response) => ((await res.json()) as ErrorBody).error.code;
const join = async (body: unknown) => post("/api/v1/miners/join", body);

describe("join signatures", () => {
  it("refuses a join signed by another key than the evm_address's (401 invalid_signature)", async () => {
    const res = await join(await joinBody(node("fastA"), {}, { signer: generatePrivateKey() }));
    expect(res.status).toBe(401);
    expect(await codeOf(res)).toBe("invalid_signature");
  });

  it("refuses a join claiming another's address with the attacker's own signature", async () => {
    const victim = node("fastA");
    const attacker = node("fastB");
    const res = await join(await joinBody(attacker, { evm_address: victim.address }, { signer: attacker.key }));
    expect(res.status).toBe(401);
  });

  it("refuses a join whose fields differ from what was signed: url, models, credential, capacity, protocol, offchain", async () => {
    const n = node("fastA");
    const tampered: Record<string, unknown>[] = [
      { url: "http://127.0.0.1:1" },
      { models: ["other-model"] },
      { credential: "attacker-controlled-credential" },
      { max_concurrency: 1024 },
      { offchain: true },
      { protocol: "neuroshard" },
    ];
    for (const signed of tampered) {
      const res = await join(await joinBody(n, {}, { signed }));
      expect(res.status, JSON.stringify(signed)).toBe(401);
    }
  });

  it("refuses a join signed for another router (its id in the text is not this router's)", async () => {
    const other = privateKeyToAccount(generatePrivateKey()).address;
    const res = await join(await joinBody(node("fastA"), {}, { router: other }));
    expect(res.status).toBe(401);
    expect(await codeOf(res)).toBe("invalid_signature");
  });

  it("refuses a malformed signature as a field (400)", async () => {
    const body = await joinBody(node("fastA"));
    const res = await join({ ...body, signature: "0x1234" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.details!.issues!.map((i) => i.field)).toContain("signature");
  });

  it("refuses the high-s twin of a valid join signature (s -> n - s, v flipped), as OpenZeppelin's ECDSA refuses it on chain", async () => {
    const body = await joinBody(node("fastC"));
    const res = await join({ ...body, signature: highSTwin(body.signature as Hex) });
    expect(res.status).toBe(401);
    expect(await codeOf(res)).toBe("invalid_signature");
    // The signature itself is good: the join it came with is admitted.
    expect((await join(body)).status).toBe(201);
  });

  it("refuses a replayed join (same signed body) with 409 nonce_reused, and the same nonce re-signed at another time", async () => {
    const n = node("fastB");
    const body = await joinBody(n);
    expect((await join(body)).status).toBe(201);
    const replay = await join(body);
    expect(replay.status).toBe(409);
    expect(await codeOf(replay)).toBe("nonce_reused");
    const resigned = await join(await joinBody(n, { nonce: body.nonce }));
    expect(resigned.status).toBe(409);
    // A fresh nonce renews.
    expect((await join(await joinBody(n))).status).toBe(200);
  });

  it("admits once when two joins race with one nonce (the nonce is used up with the write)", async () => {
    const body = await joinBody(node("fastA"));
    const statuses = (await Promise.all([join(body), join(body), join(body)])).map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409]);
  });

  it("refuses fields that could make one signed text read as another (a comma in a model, a line break in the URL)", async () => {
    const n = node("fastA");
    for (const [field, value] of [
      ["models", ["a,b"]],
      ["models", ["a\nprotocol: neuroshard"]],
      ["url", `${n.url}/\nmodels: x`],
    ] as const) {
      const res = await join(await joinBody(n, { [field]: value }));
      expect(res.status, JSON.stringify(value)).toBe(400);
      expect(((await res.json()) as ErrorBody).error.details!.issues!.map((i) => i.field)[0]).toMatch(new RegExp(`^${field}`));
    }
  });

  it("keeps nonces per address: another node may use the same nonce", async () => {
    const nonce = randomNonce();
    expect((await join(await joinBody(node("fastA"), { nonce }))).status).toBe(201);
    expect((await join(await joinBody(node("fastC"), { nonce }))).status).toBe(201);
  });

  it("refuses a join signed too long ago or too far ahead (400 stale_join, naming issued_at)", async () => {
    const n = node("fastC");
    for (const offsetS of [-121, -3600, 121, 86_400]) {
      const res = await join(await joinBody(n, { issued_at: new Date(Date.now() + offsetS * 1000).toISOString() }));
      expect(res.status, String(offsetS)).toBe(400);
      const body = (await res.json()) as ErrorBody;
      expect(body.error.code).toBe("stale_join");
      expect(body.error.details!.issues!.map((i) => i.field)).toEqual(["issued_at"]);
    }
    expect((await join(await joinBody(n, { issued_at: new Date(Date.now() - 60_000).toISOString() }))).status).toBe(201);
  });

  it("refuses a forged, replayed or stale leave; a valid one ends the lease", async () => {
    const n = node("spare");
    await joinOk(n);
    const forged = await leaveBody(n);
    const res = await post("/api/v1/miners/leave", { ...forged, signature: await privateKeyToAccount(generatePrivateKey()).signMessage({ message: "x" }) });
    expect(res.status).toBe(401);
    const stale = await post("/api/v1/miners/leave", await leaveBody(n, { issued_at: new Date(Date.now() - 3_600_000).toISOString() }));
    expect(stale.status).toBe(400);
    const leave = await leaveBody(n);
    expect((await post("/api/v1/miners/leave", leave)).status).toBe(200);
    const replay = await post("/api/v1/miners/leave", leave);
    expect(replay.status).toBe(409);
    expect(await codeOf(replay)).toBe("nonce_reused");
  });
});
