/** Money as the console shows it: the ledger's integer micros, never through floating point. */

/**
 * The ledger's integer micros as exact decimal text, digit by digit (no
 * floating point): 1234500 → "1.2345", -5 → "-0.000005".
 */
export function decimalText(m: number): string {
  const sign = m < 0 ? "-" : "";
  const abs = Math.abs(m);
  const fraction = String(abs % 1_000_000)
    .padStart(6, "0")
    .replace(/0+$/, "");
  return `${sign}${Math.floor(abs / 1_000_000)}${fraction ? `.${fraction}` : ""}`;
}

/**
 * The ledger's integer micros as money in its currency (LEDGER_CURRENCY),
 * formatted by Intl.NumberFormat from the exact decimal text, never a float
 * (a string is formatted exactly): 1234500 in USD → "$1.2345". A code Intl
 * does not take for a currency (not three letters) follows the figure.
 */
export function money(m: number, currency: string): string {
  const digits = { minimumFractionDigits: 2, maximumFractionDigits: 6 };
  const text = decimalText(m) as Intl.StringNumericLiteral;
  try {
    return new Intl.NumberFormat("en-US", { style: "currency", currency, ...digits }).format(text);
  } catch {
    return `${new Intl.NumberFormat("en-US", digits).format(text)} ${currency}`;
  }
}
