/**
 * `new Date(ms).toISOString()`, the same text, for the times a task's
 * receipt carries (when each miner answered, when it was issued). The
 * runtime's formatting was most of building a receipt; times of one task, and
 * of the tasks after it, fall in the same second, so the text up to the
 * seconds is kept for the last second formatted and only the milliseconds
 * are written each time. Years outside 0–9999 (other text), and what is not a
 * time (a RangeError), are the runtime's.
 */
/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: four-digit years, the text's usual form. */
const MIN = -62_167_219_200_000;
const MAX = 253_402_300_799_999;

let second = Number.NaN;
let head = "";

/** The ISO 8601 text of an epoch time in milliseconds, as `Date.prototype.toISOString` writes it. */
export function isoTime(ms: number): string {
  const t = Math.trunc(ms);
  if (!(t >= MIN && t <= MAX)) return new Date(ms).toISOString();
  const s = Math.floor(t / 1000);
  if (s !== second) {
    // "YYYY-MM-DDTHH:mm:ss" of this second.
    head = new Date(s * 1000).toISOString().slice(0, 19);
    second = s;
  }
  const milli = t - s * 1000;
  return `${head}.${milli < 10 ? "00" : milli < 100 ? "0" : ""}${milli}Z`;
}
