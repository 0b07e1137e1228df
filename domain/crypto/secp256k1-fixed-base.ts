import { secp256k1 } from "@noble/curves/secp256k1";

/**
 * u1·G + u2·Q on secp256k1 for a point Q used again and again (a miner's
 * public key), with no doublings and no inversion: the sum of one
 * precomputed multiple of G and one of Q per window of each scalar, added
 * in Jacobian coordinates to points kept affine (a "mixed" addition, 8
 * multiplications and 3 squarings, against the 14 multiplications and 19
 * reduced additions of `@noble/curves`' complete projective addition).
 *
 * The mixed addition is incomplete (it divides by zero when the two points
 * share an x), so every addition checks for that and then doubles or
 * returns the point at infinity: the sum is exact whatever the scalars,
 * including scalars a signer chose so that partial sums meet.
 *
 * Field values are BigInts kept within a few multiples of p and reduced by
 * `%` after each product (V8's BigInt remainder is cheaper than the
 * sign-correcting `mod` noble runs on every operation); they are brought
 * into [0, p) only where compared. The tests compare tables and sums with
 * `@noble/curves`' (its `precomputeWindow` and `multiply`), including sums
 * whose partial sums meet.
 */

const { ProjectivePoint: Point, CURVE } = secp256k1;
type Point = InstanceType<typeof Point>;
const P = CURVE.Fp.ORDER;

/** A point's precomputed multiples: window w, digit m (1..2^(W−1)) at index w·2^(W−1) + m − 1, as affine x and y. */
export type FixedBaseTable = { window: number; xs: bigint[]; ys: bigint[] };

/**
 * The table of `point`'s multiples for `window`-bit windows: ⌈256/W⌉+1
 * windows of 2^(W−1) points, the same points as `@noble/curves`'
 * `precomputeWindow` (window w holds m·2^(W·w)·point), built with the
 * additions below and brought to affine with one inversion for the whole
 * table (Montgomery's trick): about a tenth of building it with noble's
 * complete projective additions and `normalizeZ`.
 */
export function fixedBaseTable(point: Point, window: number): FixedBaseTable {
  const half = 2 ** (window - 1);
  const windows = Math.ceil(256 / window) + 1;
  const jacobian: Jacobian[] = [];
  const start = point.toAffine();
  let base: Jacobian = { X: start.x, Y: start.y, Z: 1n };
  for (let w = 0; w < windows; w++) {
    // This window's base, affine, so its multiples are mixed additions.
    const [b] = toAffine([base]);
    const bx = b?.x as bigint;
    const by = b?.y as bigint;
    let multiple: Jacobian = { X: bx, Y: by, Z: 1n };
    jacobian.push(multiple);
    for (let m = 2; m <= half; m++) {
      multiple = addAffine(multiple, bx, by);
      jacobian.push(multiple);
    }
    base = double(multiple); // 2·2^(W−1) = 2^W times this window's base
  }
  const affine = toAffine(jacobian);
  return { window, xs: affine.map((p) => p.x), ys: affine.map((p) => p.y) };
}

/** Jacobian points (none at infinity) as affine x and y in [0, p), with one inversion for them all. */
function toAffine(points: Jacobian[]): { x: bigint; y: bigint }[] {
  const prefix: bigint[] = [];
  let product = 1n;
  for (const p of points) {
    prefix.push(product);
    product = (product * p.Z) % P;
  }
  let inverse = invertMod(product, P); // 1 / (Z0·Z1·…)
  const out: { x: bigint; y: bigint }[] = new Array(points.length);
  for (let i = points.length - 1; i >= 0; i--) {
    const p = points[i] as Jacobian;
    const zInv = (inverse * (prefix[i] as bigint)) % P; // 1 / Zi
    inverse = (inverse * p.Z) % P; // 1 / (Z0·…·Z(i−1))
    const zInv2 = (zInv * zInv) % P;
    out[i] = { x: reduce(p.X * zInv2), y: reduce(((p.Y * zInv2) % P) * zInv) };
  }
  return out;
}

/** How many points a table of this window holds (its memory is about 110 bytes a point: two 256-bit BigInts and their slots). */
export function tablePoints(window: number): number {
  return (Math.ceil(256 / window) + 1) * 2 ** (window - 1);
}

/** A Jacobian point (x = X/Z², y = Y/Z³); Z = 0 is the point at infinity. Coordinates are kept in (−p, p), not reduced into [0, p). */
type Jacobian = { X: bigint; Y: bigint; Z: bigint };
const INFINITY: Jacobian = { X: 1n, Y: 1n, Z: 0n };

const reduce = (a: bigint): bigint => {
  const r = a % P;
  return r < 0n ? r + P : r;
};

/** 2·A (dbl-2009-l, a = 0). */
function double(A: Jacobian): Jacobian {
  const a = (A.X * A.X) % P;
  const b = (A.Y * A.Y) % P;
  const c = (b * b) % P;
  const xb = A.X + b;
  const d = 2n * (((xb * xb) % P) - a - c);
  const e = 3n * a;
  const f = (e * e) % P;
  const X = (f - 2n * d) % P;
  return { X, Y: (e * (d - X) - 8n * c) % P, Z: (2n * A.Y * A.Z) % P };
}

/** A + (x, y), A not at infinity (madd-2004-hmv), or the doubling / infinity when they share an x. */
function addAffine(A: Jacobian, x: bigint, y: bigint): Jacobian {
  const zz = (A.Z * A.Z) % P;
  // x·Z² − X in (−p, 2p) and y·Z³ − Y in (−2p, 2p), left unreduced: zero mod p is one of −p, 0, p.
  const h = ((x * zz) % P) - A.X; // zero when A's x is x
  const rr = ((((y * zz) % P) * A.Z) % P) - A.Y; // zero when A's y is y as well
  if (h === 0n || h === P) return rr === 0n || rr === P || rr === -P ? double(A) : INFINITY;
  const hh = (h * h) % P;
  const hhh = (hh * h) % P;
  const v = (A.X * hh) % P;
  const X = (rr * rr - hhh - 2n * v) % P;
  return { X, Y: (rr * (v - X) - A.Y * hhh) % P, Z: (A.Z * h) % P };
}

/** The W-bit signed digits of k < 2^256 (each in (−2^(W−1), 2^(W−1)], the carry into the next window), as noble's wNAF computes them. */
function digits(k: bigint, window: number): Int32Array {
  const count = Math.ceil(256 / window) + 1;
  const out = new Int32Array(count);
  const hex = k.toString(16).padStart(64, "0");
  const words = new Uint32Array(9); // little-endian 32-bit words, one spare for reads past the top
  for (let i = 0; i < 8; i++) words[i] = Number.parseInt(hex.slice(56 - 8 * i, 64 - 8 * i), 16);
  const mask = 2 ** window - 1;
  const half = 2 ** (window - 1);
  let carry = 0;
  for (let w = 0; w < count; w++) {
    const bit = w * window;
    const i = bit >>> 5;
    const shift = bit & 31;
    let value = i < 8 ? (words[i] ?? 0) >>> shift : 0;
    if (shift + window > 32 && i + 1 < 9) value |= (words[i + 1] ?? 0) << (32 - shift);
    value = (value & mask) + carry;
    carry = 0;
    if (value > half) {
      value -= 2 ** window;
      carry = 1;
    }
    out[w] = value;
  }
  return out;
}

/** `from` + Σ digit·table, one table point a non-zero window. */
function accumulate(from: Jacobian, k: bigint, table: FixedBaseTable): Jacobian {
  const half = 2 ** (table.window - 1);
  const ds = digits(k, table.window);
  let acc = from;
  for (let w = 0; w < ds.length; w++) {
    const d = ds[w] ?? 0;
    if (d === 0) continue;
    const at = w * half + Math.abs(d) - 1;
    const x = table.xs[at] as bigint;
    const y = d < 0 ? P - (table.ys[at] as bigint) : (table.ys[at] as bigint);
    acc = acc.Z === 0n ? { X: x, Y: y, Z: 1n } : addAffine(acc, x, y);
  }
  return acc;
}

/** u1·G + u2·Q (u1, u2 in [0, n)) in Jacobian coordinates, undefined for the point at infinity. */
export function doubleScalar(u1: bigint, g: FixedBaseTable, u2: bigint, q: FixedBaseTable): Jacobian | undefined {
  const sum = accumulate(accumulate(INFINITY, u1, g), u2, q);
  return sum.Z === 0n ? undefined : sum;
}

/**
 * Whether a Jacobian point's affine x is `x` and its y's parity is `odd`:
 * x compared as X = x·Z² (no inversion), and only when it matches is Z
 * inverted for y's parity (y = Y/Z³), so a wrong signature costs no inversion.
 */
export function hasAffineX(point: Jacobian, x: bigint, odd: 0 | 1): boolean {
  const zz = (point.Z * point.Z) % P;
  if (reduce(point.X - x * zz) !== 0n) return false;
  const zInv = invertMod(point.Z, P);
  const zInv3 = (((zInv * zInv) % P) * zInv) % P;
  return Number(reduce(point.Y * zInv3) & 1n) === odd;
}

/**
 * a⁻¹ mod m (m prime, a not a multiple of m): the extended Euclidean
 * algorithm keeping only a's coefficient, with b − q·a for the remainder;
 * a third cheaper than `@noble/curves`' `invert`, which also tracks m's.
 */
export function invertMod(a: bigint, m: bigint): bigint {
  let x = a % m;
  if (x < 0n) x += m;
  if (x === 0n) throw new RangeError("no inverse of 0");
  let b = m;
  let u = 0n;
  let v = 1n;
  while (x !== 0n) {
    const q = b / x;
    const r = b - q * x;
    b = x;
    x = r;
    const w = u - v * q;
    u = v;
    v = w;
  }
  return u < 0n ? u + m : u;
}

/** For tests: a Jacobian point as noble's point (to compare sums with the library's). */
export function toNoble(point: Jacobian | undefined): Point {
  if (point === undefined) return Point.ZERO;
  const zInv = invertMod(point.Z, P);
  const zInv2 = (zInv * zInv) % P;
  return Point.fromAffine({ x: reduce(point.X * zInv2), y: reduce(point.Y * zInv2 * zInv) });
}
