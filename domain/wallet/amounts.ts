/**
 * Wallet amounts. The Ledger keeps integer micros (millionths of the
 * gateway's currency); clients send and read decimals. A decimal is read
 * from its text, digit by digit, never through floating point: `100.1` and
 * `"100.1"` are 100100000 micros exactly.
 */
export const MICROS_PER_UNIT = 1_000_000;
const DECIMALS = 6;

/** Micros as the wallet shows them (display only; storage stays integer). */
export const toAmount = (micros: number) => micros / MICROS_PER_UNIT;

/** Integer micros as exact decimal text with six places (1500 → "0.001500"), never through floating point. */
export const microsText = (micros: number) => `${Math.floor(micros / MICROS_PER_UNIT)}.${String(micros % MICROS_PER_UNIT).padStart(DECIMALS, "0")}`;

/** Integer micros from a decimal's text or a JSON number, or why not. */
export function parseMicros(value: string | number): { micros: number } | { problem: string } {
  // A JSON number's shortest round-trip text is the decimal the client wrote (100.1 → "100.1");
  // one with more digits than that, or an exponent, is refused below rather than rounded.
  const text = typeof value === "number" ? (Number.isFinite(value) ? String(value) : "") : value;
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) return { problem: 'must be a decimal amount like 100 or "100.25"' };
  const [, sign, whole = "", fraction = ""] = match;
  if (fraction.length > DECIMALS) return { problem: `at most ${DECIMALS} decimals` };
  const micros = BigInt(whole) * BigInt(MICROS_PER_UNIT) + BigInt(fraction.padEnd(DECIMALS, "0"));
  if (sign === "-" || micros === 0n) return { problem: "must be positive" };
  if (micros > BigInt(Number.MAX_SAFE_INTEGER)) return { problem: "is too large" };
  return { micros: Number(micros) };
}
