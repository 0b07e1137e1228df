/**
 * Checks a receipt offline (workers/receipts/verify-receipt.ts, the same
 * code as a library): prints a verdict per check, exits 1 if any failed.
 *
 *   npm run verify -- receipt.json [--output [slot=]file ...] [--answer file] [--router 0x…]
 *
 * `--output` gives an output's text (needed for a private session's receipt,
 * which carries hashes only): `slot=file`, or plain files in the order of the
 * receipt's counted miners. `--answer` is the completion text received;
 * `--router` pins the router address the receipt must be signed by.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { verifyReceipt } from "../workers/receipts/verify-receipt.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    output: { type: "string", multiple: true, default: [] },
    answer: { type: "string" },
    router: { type: "string" },
  },
});

const file = positionals[0];
if (!file || positionals.length > 1) {
  console.error("usage: npm run verify -- receipt.json [--output [slot=]file ...] [--answer file] [--router 0x…]");
  process.exit(2);
}

const read = (path: string) => readFileSync(path === "-" ? 0 : path, "utf8");
let receipt: unknown;
try {
  receipt = JSON.parse(read(file));
} catch (err) {
  console.error(`cannot read ${file} as JSON: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
}

const counted = (((receipt as { miners?: unknown }).miners ?? []) as { slot?: unknown; counted?: unknown }[]).filter((m) => m.counted === true).map((m) => Number(m.slot));
const outputs: Record<number, string> = {};
values.output.forEach((arg, i) => {
  const named = /^(\d+)=(.+)$/.exec(arg);
  const slot = named ? Number(named[1]) : counted[i];
  if (slot === undefined) {
    console.error(`--output ${arg}: the receipt has no counted miner number ${i + 1}; name its slot (slot=file)`);
    process.exit(2);
  }
  outputs[slot] = read(named?.[2] ?? arg);
});

const verdict = await verifyReceipt(receipt, {
  outputs,
  ...(values.answer ? { answer: read(values.answer) } : {}),
  ...(values.router ? { router: values.router } : {}),
});
const mark = { pass: "PASS", fail: "FAIL", skip: "skip" } as const;
for (const check of verdict.checks) console.log(`${mark[check.result]}  ${check.name.padEnd(20)} ${check.detail}`);
console.log(verdict.ok ? "\nreceipt verified" : `\nreceipt NOT verified: ${verdict.checks.filter((c) => c.result === "fail").length} check(s) failed`);
process.exit(verdict.ok ? 0 : 1);
