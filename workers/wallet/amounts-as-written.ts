import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../http/app-env";

/**
 * JSON.parse turns `1e3`, `1000` and `1000.0000000000000001` into the same
 * float, so a schema cannot refuse an exponent or excess digits in a JSON
 * number it is handed. This middleware parses a wallet body once more, with
 * the reviver's view of each value's source text (V8's JSON.parse source
 * access), and hands the route every `amount` number as the text the client
 * wrote (`100.0` → "100.0"): `parseMicros` then reads it digit by digit and
 * refuses what the README refuses. A body that is not JSON is left to the
 * route's validator to refuse.
 */
export const amountsAsWritten = createMiddleware<AppEnv>(async function amountsAsWritten(c, next) {
  if (c.req.header("content-type")?.toLowerCase().includes("json")) {
    const text = await c.req.text();
    let body: unknown;
    try {
      body = JSON.parse(text, asWritten);
    } catch {
      body = undefined;
    }
    // The validator's c.req.json() parses the cached text (a promise at run time, whatever
    // Hono's type says): it reads the amounts as strings. test/adversarial/economy/hostile-inputs.test.ts pins it.
    if (body !== undefined) (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(JSON.stringify(body));
  }
  await next();
});

function asWritten(key: string, value: unknown, context?: { source?: string }): unknown {
  return key === "amount" && typeof value === "number" && typeof context?.source === "string" ? context.source : value;
}
