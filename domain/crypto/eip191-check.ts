import { secp256k1 } from "@noble/curves/secp256k1";
import { keccak_256 } from "@noble/hashes/sha3";
import { bytesToHex } from "@noble/hashes/utils";
import { doubleScalar, type FixedBaseTable, fixedBaseTable, hasAffineX, invertMod } from "./secp256k1-fixed-base.ts";

/**
 * Whether a 65-byte EIP-191 (`personal_sign`) signature is a given
 * address's signature of a text, in about a fifth of what viem's
 * `recoverMessageAddress` costs once the address has been seen.
 *
 * A recovery (what viem does) pays a square root to rebuild the signature's
 * point R and a double scalar multiplication with no precomputed tables.
 * Here signatures from an address are recovered with `@noble/curves` (the
 * same library viem calls) until KEEP_AFTER of them have recovered to it;
 * then its public key is kept with a precomputed table of its multiples
 * (built once, about ten recoveries' worth of CPU, so a miner seen once or
 * twice never pays for one), and every later signature from it is checked by computing
 * R = (h·G + r·Q) / s from both tables and requiring R's x to be r and R's
 * y parity to be the signature's v. That is exactly "this signature
 * recovers to Q": R is the one point recovery would rebuild from (r, v),
 * and Q = (s·R − h·G) / r. So a wrong v, another key or another text fail
 * here as they fail a recovery.
 *
 * Refused before any curve work: anything but 65 bytes of hex, v other than
 * 0, 1, 27 or 28, r or s outside [1, n), and a high s (s > n/2, the
 * malleable twin of a valid signature: OpenZeppelin's ECDSA, which checks
 * these signatures on chain, refuses it, so the router does too).
 *
 * Tables are `@noble/curves`' wNAF windows over full 256-bit scalars (the
 * tables it keeps on its points are for scalars split by the curve's
 * endomorphism, and its `multiplyUnsafe` over them gives wrong points for
 * full scalars), kept affine; the sum over them is secp256k1-fixed-base.ts
 * (mixed Jacobian additions, no inversion until R's x matches r).
 */

const { ProjectivePoint: Point, Signature, CURVE } = secp256k1;
type Point = InstanceType<typeof Point>;
const N = CURVE.n;
const HALF_N = N >> 1n;
/**
 * Window sizes: G's table (one an isolate, 4224 points, about 0.5 MB, built
 * on the first kept key's first check) and each key's (W=7: 2432 points,
 * about 0.27 MB, so MAX_KEYS keys at most about 9 MB). A window more halves
 * nothing but the additions' count by W/(W+1) and doubles the memory.
 */
const BASE_WINDOW = 8;
const KEY_WINDOW = 7;
/** How many addresses an isolate keeps (a session's miners, a few sessions over), and after how many recovered signatures a key's table is built. */
const MAX_KEYS = 32;
const KEEP_AFTER = 8;

let baseTable: FixedBaseTable | undefined;
/** Lower-case address → its signatures recovered so far, then its public key's table; least recently used first (a Map keeps insertion order). */
const keys = new Map<string, { recovered: number; table?: FixedBaseTable }>();

const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

type Parsed = { r: bigint; s: bigint; recovery: 0 | 1 };

function parse(signature: string): Parsed | undefined {
  if (!SIGNATURE.test(signature)) return undefined;
  const v = Number.parseInt(signature.slice(130), 16);
  const recovery = v === 0 || v === 27 ? 0 : v === 1 || v === 28 ? 1 : undefined;
  if (recovery === undefined) return undefined;
  const r = BigInt(`0x${signature.slice(2, 66)}`);
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  if (r === 0n || r >= N || s === 0n || s > HALF_N) return undefined;
  return { r, s, recovery };
}

function addressOf(key: Point): string {
  const hash = keccak_256(key.toRawBytes(false).subarray(1));
  return `0x${bytesToHex(hash.subarray(12))}`;
}

/** A signature from an address whose key is not kept yet: recover it; after KEEP_AFTER that recover to the address, keep its key's table. */
function recoverAndCount(sig: Parsed, hash: Uint8Array, address: string): boolean {
  let key: Point;
  try {
    key = new Signature(sig.r, sig.s).addRecoveryBit(sig.recovery).recoverPublicKey(hash) as Point;
  } catch {
    return false;
  }
  if (addressOf(key) !== address) return false;
  const recovered = (keys.get(address)?.recovered ?? 0) + 1;
  remember(address, recovered >= KEEP_AFTER ? { recovered, table: fixedBaseTable(key, KEY_WINDOW) } : { recovered });
  return true;
}

function remember(address: string, entry: { recovered: number; table?: FixedBaseTable }): void {
  keys.delete(address);
  keys.set(address, entry);
  if (keys.size > MAX_KEYS) keys.delete(keys.keys().next().value as string);
}

/** A signature checked against a key already known: R = (h·G + r·Q) / s must be the point (r, v). */
function checkWithKey(sig: Parsed, hash: Uint8Array, table: FixedBaseTable): boolean {
  baseTable ??= fixedBaseTable(Point.BASE, BASE_WINDOW);
  const h = BigInt(`0x${bytesToHex(hash)}`) % N;
  const sInv = invertMod(sig.s, N);
  const R = doubleScalar((h * sInv) % N, baseTable, (sig.r * sInv) % N, table);
  return R !== undefined && hasAffineX(R, sig.r, sig.recovery);
}

const utf8 = new TextEncoder();
const PREFIX = utf8.encode("\x19Ethereum Signed Message:\n");
/** EIP-191's hash of a text, as viem's `hashMessage` computes it: keccak-256 of "\x19Ethereum Signed Message:\n", the text's UTF-8 length in decimal, and the text. */
export function eip191Hash(message: string): Uint8Array {
  const text = utf8.encode(message);
  const length = utf8.encode(String(text.length));
  const bytes = new Uint8Array(PREFIX.length + length.length + text.length);
  bytes.set(PREFIX, 0);
  bytes.set(length, PREFIX.length);
  bytes.set(text, PREFIX.length + length.length);
  return keccak_256(bytes);
}

/** Whether `signature` is `address`'s EIP-191 signature of `message` (see above for what is refused). */
export function isEip191SignedBy(message: string, signature: string, address: string): boolean {
  if (!ADDRESS.test(address)) return false;
  const sig = parse(signature);
  if (!sig) return false;
  const hash = eip191Hash(message);
  const owner = address.toLowerCase();
  const known = keys.get(owner);
  if (!known?.table) return recoverAndCount(sig, hash, owner);
  remember(owner, known);
  return checkWithKey(sig, hash, known.table);
}

/** For the micro-benchmark and tests: forget an address, or every address (so a recovery can be measured again). */
export function forgetKeys(address?: string): void {
  if (address === undefined) keys.clear();
  else keys.delete(address.toLowerCase());
}

/** For tests: whether an address's key is kept (its signatures checked without a recovery). */
export function keyKept(address: string): boolean {
  return keys.get(address.toLowerCase())?.table !== undefined;
}
