import { invert } from "@noble/curves/abstract/modular";
import { secp256k1 } from "@noble/curves/secp256k1";
import { type Hex, hashMessage, isAddressEqual, recoverMessageAddress } from "viem";
import { describe, expect, it } from "vitest";
import { privateKeyToAccount } from "viem/accounts";
import { addressProof, admin, call, createSession, fleet, minersFor, uniq } from "../helpers";
import { devMinerKey, identityKey } from "../../tools/dev-miner/sign.ts";
import { forgetKeys, isEip191SignedBy, keyKept } from "../../domain/crypto/eip191-check";

type Answer = { miners: { miner: string; status: string; fault: string | null; signature?: string | null }[]; consensus: { agreed: number } };

/**
 * Miners that sign, but not their own result for this task: a signature
 * carried over from another task, one by a key that is not theirs (copied
 * from another miner), one over a text they did not send. Under `require`
 * none of them is counted, and each is the miner's own failure.
 */
describe("forged result signatures", () => {
  it("refuses a signature made for another task, another key or another output, and counts only the honest miner", async () => {
    const liars = ["otherTask", "otherKey", "otherOutput"] as const;
    const { model, ids } = await minersFor([...liars, "signedA"], { registered: [...liars, "signedA"] });
    const sessionId = await createSession({ model, redundancy: 4, max_nodes: 4, signatures: "require", commit_policy: "all" });
    const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "sign your own work", timeout: 20 } });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Answer;
    const byId = new Map(answer.miners.map((m) => [m.miner, m]));
    for (const liar of liars) expect(byId.get(ids[liar] ?? ""), liar).toMatchObject({ status: "failed", fault: "miner" });
    expect(byId.get(ids["signedA"] ?? "")).toMatchObject({ status: "committed", signature: "valid" });
    expect(answer.consensus.agreed).toBe(1);
  });

  it("refuses a miner's own signature when it is registered under another address", async () => {
    // signedA signs rightly with its own key, but the router knows it under another address (proven by that key's holder).
    const { model, ids } = await minersFor(["signedA"]);
    const other = identityKey(devMinerKey("signedB"), uniq("other"));
    const patch = await admin(`/api/v1/admin/miners/${ids["signedA"]}`, "PATCH", {
      evm_address: privateKeyToAccount(other).address,
      address_proof: await addressProof(other, fleet().signedA.url),
    });
    expect(patch.status).toBe(200);
    const sessionId = await createSession({ model, signatures: "require" });
    const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: "whose key is this", timeout: 20 } });
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({
      error: { code: "miners_failed", details: { miners: [{ fault: "miner", error: expect.stringContaining("not its registered address") }] } },
    });
  });
});

/**
 * The check itself (domain/crypto/eip191-check.ts), on both of its paths: a
 * miner's first signatures are recovered; once its key is kept, later ones
 * are checked against the key. Every forgery is refused on both, and every
 * answer matches viem's recovery (what the router ran before), except the
 * high-s twin, which viem's recovery accepted and the chain's ECDSA refuses.
 */
describe("forged signatures, at the check", () => {
  const signer = privateKeyToAccount(devMinerKey("forged-check"));
  const stranger = privateKeyToAccount(devMinerKey("forged-check-stranger"));
  const N = secp256k1.CURVE.n;
  const text = (i: number) => `cortensor-result:v1\ntask:${i}`;
  const vByte = (sig: Hex) => Number.parseInt(sig.slice(130), 16);
  const withV = (sig: Hex, v: number) => `${sig.slice(0, 130)}${v.toString(16).padStart(2, "0")}` as Hex;
  const flipV = (sig: Hex) => withV(sig, vByte(sig) === 27 ? 28 : 27);
  const word = (n: bigint) => n.toString(16).padStart(64, "0");
  /** The same signature with s replaced by n − s and v flipped: a valid ECDSA signature of the same text, the malleable twin. */
  const highS = (sig: Hex) => {
    const s = BigInt(`0x${sig.slice(66, 130)}`);
    return flipV(`0x${sig.slice(2, 66)}${word(N - s)}${sig.slice(130)}` as Hex);
  };
  const forgeries = async (i: number): Promise<[string, string][]> => {
    const sig = await signer.signMessage({ message: text(i) });
    const r = sig.slice(2, 66);
    const s = sig.slice(66, 130);
    return [
      ["another text's signature", await signer.signMessage({ message: text(i + 1000) })],
      ["another key's signature", await stranger.signMessage({ message: text(i) })],
      ["wrong v", flipV(sig)],
      ["v 29", withV(sig, 29)],
      ["v 2", withV(sig, 2)],
      ["high-s twin", highS(sig)],
      ["one byte short", sig.slice(0, 128)],
      ["one byte long", `${sig}00`],
      ["not hex", `${sig.slice(0, 129)}g`],
      ["r = 0", `0x${word(0n)}${s}${sig.slice(130)}`],
      ["s = 0", `0x${r}${word(0n)}${sig.slice(130)}`],
      ["r = n", `0x${word(N)}${s}${sig.slice(130)}`],
      ["r = 5", `0x${word(5n)}${s}${sig.slice(130)}`],
    ];
  };

  it("accepts the signer's own signatures, v as 27/28 or 0/1, before and after its key is kept", async () => {
    forgetKeys();
    for (let i = 0; i < 12; i++) {
      const sig = await signer.signMessage({ message: text(i) });
      expect(isEip191SignedBy(text(i), sig, signer.address), `signature ${i}`).toBe(true);
      expect(isEip191SignedBy(text(i), withV(sig, vByte(sig) - 27), signer.address.toLowerCase()), `signature ${i}, v 0/1`).toBe(true);
    }
    expect(keyKept(signer.address)).toBe(true);
    expect(keyKept(stranger.address)).toBe(false);
  });

  for (const kept of [false, true]) {
    it(`refuses every forgery ${kept ? "once the key is kept" : "while signatures are recovered"}, as viem's recovery does but for the high-s twin`, async () => {
      forgetKeys();
      if (kept) for (let i = 0; i < 12; i++) isEip191SignedBy(text(i), await signer.signMessage({ message: text(i) }), signer.address);
      expect(keyKept(signer.address)).toBe(kept);
      for (const [what, forged] of await forgeries(7)) {
        expect(isEip191SignedBy(text(7), forged, signer.address), what).toBe(false);
        const viem = await recoverMessageAddress({ message: text(7), signature: forged as Hex }).then(
          (who) => isAddressEqual(who, signer.address),
          () => false,
        );
        expect(viem, `viem on ${what}`).toBe(what === "high-s twin");
      }
      // A refusal does not forget the key, nor does a first signature by another key displace the signer's.
      expect(keyKept(signer.address)).toBe(kept);
      expect(isEip191SignedBy(text(8), await signer.signMessage({ message: text(8) }), signer.address)).toBe(true);
    });
  }

  /**
   * A signer knows its key q, so it can choose q, r and s so that the
   * kept-key check's sum h/s·G + r/s·Q is the point at infinity (q = −h/r)
   * or adds two equal halves (q = h/r, r the x of 2h/s·G: a valid signature
   * whose nonce is 2h/s). The first is refused without an error, the second
   * accepted, on both paths, as viem's recovery answers.
   */
  it("answers as a recovery for keys chosen so that the check's sum is infinity or two equal halves", async () => {
    const message = "cortensor-result:v1\ntask:chosen-key";
    const h = BigInt(hashMessage(message)) % N;
    const keyOf = (q: bigint) => privateKeyToAccount(`0x${word(q)}`);
    const s = 12345n;
    // Two equal halves: R = (2h/s)·G, r its x, q = h/r.
    const R = secp256k1.ProjectivePoint.BASE.multiply((2n * h * invert(s, N)) % N).toAffine();
    expect(R.x < N).toBe(true);
    const equalHalves = keyOf((h * invert(R.x, N)) % N);
    const valid = `0x${word(R.x)}${word(s)}${(27 + Number(R.y & 1n)).toString(16)}` as Hex;
    // Infinity: q = −h/r for an r of our choosing.
    const r = 0x1234567890abcdefn;
    const atInfinity = keyOf((N - ((h * invert(r, N)) % N)) % N);
    const forged = `0x${word(r)}${word(s)}1b` as Hex;
    forgetKeys();
    for (const kept of [false, true]) {
      if (kept) {
        for (const account of [equalHalves, atInfinity]) {
          for (let i = 0; i < 12; i++) isEip191SignedBy(text(i), await account.signMessage({ message: text(i) }), account.address);
        }
      }
      expect(keyKept(equalHalves.address), "equal halves' key kept").toBe(kept);
      expect(keyKept(atInfinity.address), "infinity's key kept").toBe(kept);
      expect(isEip191SignedBy(message, valid, equalHalves.address), "equal halves").toBe(true);
      expect(isAddressEqual(await recoverMessageAddress({ message, signature: valid }), equalHalves.address)).toBe(true);
      expect(isEip191SignedBy(message, forged, atInfinity.address), "infinity").toBe(false);
      const viem = await recoverMessageAddress({ message, signature: forged }).then(
        (who) => isAddressEqual(who, atInfinity.address),
        () => false,
      );
      expect(viem, "viem on infinity").toBe(false);
    }
  });

  it("refuses a signature checked against an address that is not one", async () => {
    const sig = await signer.signMessage({ message: text(1) });
    for (const address of ["", "0x", signer.address.slice(0, 41), `${signer.address}00`, "not an address"]) {
      expect(isEip191SignedBy(text(1), sig, address), address).toBe(false);
    }
  });
});
