import { wNAF } from "@noble/curves/abstract/curve";
import { invert } from "@noble/curves/abstract/modular";
import { secp256k1 } from "@noble/curves/secp256k1";
import { bytesToHex, hashMessage } from "viem";
import { describe, expect, it } from "vitest";
import { eip191Hash } from "../domain/crypto/eip191-check";
import { doubleScalar, fixedBaseTable, hasAffineX, invertMod, toNoble } from "../domain/crypto/secp256k1-fixed-base";

/**
 * The arithmetic under the kept-key signature check
 * (domain/crypto/secp256k1-fixed-base.ts) against `@noble/curves`: the same
 * tables as its `precomputeWindow`, and u1·G + u2·Q equal to its
 * constant-time `multiply` (not `multiplyUnsafe`, which in 1.9.1 gives wrong
 * points for full scalars on G), including scalars chosen so that a partial
 * sum meets the next point (the doubling) or its negation (infinity).
 */
const { ProjectivePoint: Point, CURVE } = secp256k1;
type Point = InstanceType<typeof Point>;
const N = CURVE.n;
const P = CURVE.Fp.ORDER;
const wnaf = wNAF(Point, 256);
const times = (point: Point, k: bigint) => (k % N === 0n ? Point.ZERO : point.multiply(k % N));
const same = (a: Point, b: Point) => a.equals(b);
/** Deterministic scalars spread over [0, n). */
const scalar = (i: number) => (BigInt(i + 1) * 0x9e3779b97f4a7c15f39cc0605cedc8341082276bf3a27251f86c6a11d0c18e95n) % N;

describe("secp256k1 fixed-base tables and sums", () => {
  const g = fixedBaseTable(Point.BASE, 8);
  const key = times(Point.BASE, scalar(1000));

  it("builds the same points as noble's precomputeWindow, for G and for a key, at every window size used", () => {
    for (const [point, window] of [
      [Point.BASE, 8],
      [key, 6],
      [key, 7],
    ] as const) {
      const ours = fixedBaseTable(point, window);
      const noble = Point.normalizeZ(wnaf.precomputeWindow(point, window) as Point[]);
      expect(ours.xs.length).toBe(noble.length);
      expect(ours.xs.every((x, i) => x === noble[i]?.px && ours.ys[i] === noble[i]?.py)).toBe(true);
    }
  });

  it("sums u1·G + u2·Q exactly for scalars across [0, n) and at its edges", () => {
    for (const window of [6, 7]) {
      const q = fixedBaseTable(key, window);
      const pairs: [bigint, bigint][] = Array.from({ length: 40 }, (_, i) => [scalar(2 * i), scalar(2 * i + 1)]);
      pairs.push([0n, 1n], [1n, 0n], [N - 1n, N - 1n], [2n ** 255n, 2n ** 255n - 1n], [N - 2n ** 128n, 2n ** 128n], [(1n << 256n) % N, 3n]);
      for (const [u1, u2] of pairs) {
        expect(same(toNoble(doubleScalar(u1, g, u2, q)), times(Point.BASE, u1).add(times(key, u2))), `${u1}, ${u2}`).toBe(true);
      }
    }
  });

  it("doubles or reaches infinity where a partial sum meets the next point or its negation", () => {
    // With Q = G the two sums share their points: u1 = u2 = 5 adds 5·G to 5·G (the doubling);
    // u1 = 3, u2 = 256·m − 3 adds −3·G to 3·G (infinity), then goes on from there; u2 = n − u1 ends at infinity.
    const gAsKey = fixedBaseTable(Point.BASE, 7);
    const pairs: [bigint, bigint][] = [
      [5n, 5n],
      [3n, 128n * 77n - 3n],
      [3n, 3n],
    ];
    for (let i = 0; i < 10; i++) pairs.push([scalar(i), scalar(i)], [scalar(i), N - scalar(i)], [scalar(i), (N - scalar(i) + 1n) % N]);
    for (const [u1, u2] of pairs) {
      const ours = doubleScalar(u1, g, u2, gAsKey);
      expect(same(toNoble(ours), times(Point.BASE, u1 + u2)), `${u1}, ${u2}`).toBe(true);
      if ((u1 + u2) % N === 0n) expect(ours).toBeUndefined();
    }
  });

  it("compares x without an inversion and reads y's parity, as the affine point says", () => {
    const q = fixedBaseTable(key, 7);
    for (let i = 0; i < 10; i++) {
      const sum = doubleScalar(scalar(i), g, scalar(i + 50), q);
      const affine = times(Point.BASE, scalar(i))
        .add(times(key, scalar(i + 50)))
        .toAffine();
      expect(sum).toBeDefined();
      if (!sum) continue;
      const odd = Number(affine.y & 1n) as 0 | 1;
      expect(hasAffineX(sum, affine.x, odd)).toBe(true);
      expect(hasAffineX(sum, affine.x, odd === 1 ? 0 : 1)).toBe(false);
      expect(hasAffineX(sum, (affine.x + 1n) % P, odd)).toBe(false);
    }
  });

  it("inverts as noble's invert does, modulo n and p", () => {
    for (let i = 0; i < 50; i++) {
      expect(invertMod(scalar(i), N)).toBe(invert(scalar(i), N));
      expect(invertMod(scalar(i) + 7n, P)).toBe(invert(scalar(i) + 7n, P));
    }
    expect(() => invertMod(0n, N)).toThrow();
  });

  it("hashes a text as viem's hashMessage does (EIP-191, the UTF-8 length in decimal)", () => {
    for (const text of ["", "a", "cortensor-result:v1\ntask:1", "héllo ✓ 日本語 🙂", "x".repeat(135), "y".repeat(1000)]) {
      expect(bytesToHex(eip191Hash(text)), text.slice(0, 20)).toBe(hashMessage(text));
    }
  });
});
