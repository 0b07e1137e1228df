/**
 * Integer micros within JavaScript's exact range. Every amount the ledger
 * stores, sums or compares is an integer no larger than 2^53 − 1; a product
 * of two such numbers (tokens × price, micros × basis points) can pass it, so
 * products are taken in BigInt and brought back only when they fit.
 */
export const MAX_MICROS = Number.MAX_SAFE_INTEGER;
const MAX = BigInt(MAX_MICROS);

/** Whether `n` is an amount the ledger can hold exactly: an integer 0…2^53 − 1. */
export const isMicros = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

/** ⌊a × b / d⌋ for non-negative integers, exactly, clamped to 2^53 − 1 (a charge or a reward never rounds, at worst it stops at the limit). */
export function mulDiv(a: number, b: number, d: number, round: "floor" | "ceil" = "floor"): number {
  if (!isMicros(a) || !isMicros(b) || !Number.isSafeInteger(d) || d <= 0) throw new RangeError(`mulDiv needs safe non-negative integers, got ${a} × ${b} / ${d}`);
  const p = BigInt(a) * BigInt(b);
  const q = round === "ceil" ? (p + BigInt(d) - 1n) / BigInt(d) : p / BigInt(d);
  return Number(q > MAX ? MAX : q);
}

/** A sum read as SQLite text (`CAST(SUM(x) AS TEXT)`), exactly: a figure beyond 2^53 − 1 is an error, never a rounded float. */
export function exactSum(text: string | number | null, what: string): number {
  const n = BigInt(text ?? 0);
  if (n > MAX || n < -MAX) throw new RangeError(`${what}: ${n} micros is beyond the exact range (2^53 - 1)`);
  return Number(n);
}
