/**
 * `npm run verify`'s work, as functions (scripts/verify.ts runs them): the
 * arguments, the router pin, the verdict printed. A receipt verifies only
 * against a pinned router address, given (`--router 0x…`) or fetched from
 * the router's published anchor (`--router-url https://…`, its
 * /.well-known/cortensor-router.json): the address inside a receipt is the
 * forger's to choose.
 */
import { parseArgs } from "node:util";
import { isAddress, isAddressEqual } from "viem";
import { ReceiptSchema } from "../domain/receipts/receipt-schema.ts";
import { verifyAnchor } from "../domain/receipts/verify-anchor.ts";
import { verifyReceipt } from "../domain/receipts/verify-receipt.ts";
import { resolvePin, UNPINNED } from "./verify-pin.ts";

export const USAGE =
  "usage: npm run verify -- receipt.json (--router 0x… | --router-url https://…) [--output [slot=]file ...] [--answer file] [--rpc https://… [--anchor-sender 0x…]]";
export type VerifyArgs = {
  file: string;
  outputs: string[];
  answer: string | undefined;
  router: string | undefined;
  routerUrl: string | undefined;
  rpc: string | undefined;
  anchorSender: string | undefined;
};
type Parsed = { ok: true; args: VerifyArgs } | { ok: false; message: string };

/** The command line, checked: one receipt file and a pin (an address, or a router URL to fetch one from). */
export function parseVerifyArgs(argv: string[]): Parsed {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    return { ok: false, message: `${err instanceof Error ? err.message : String(err)}\n${USAGE}` };
  }
  const { values, positionals } = parsed;
  const file = positionals[0];
  if (!file || positionals.length > 1) return { ok: false, message: USAGE };
  if (!values.router && !values["router-url"]) return { ok: false, message: UNPINNED };
  if (values.router && !isAddress(values.router, { strict: false })) return { ok: false, message: `--router ${values.router}: not a 0x-prefixed 20-byte address` };
  const url = values["router-url"];
  if (url !== undefined) {
    const problem = routerUrlProblem(url);
    if (problem) return { ok: false, message: `--router-url ${url}: ${problem}` };
  }
  const sender = values["anchor-sender"];
  if (sender !== undefined && !isAddress(sender, { strict: false })) return { ok: false, message: `--anchor-sender ${sender}: not a 0x-prefixed 20-byte address` };
  if (values.rpc !== undefined && !URL.canParse(values.rpc)) return { ok: false, message: `--rpc ${values.rpc}: not a URL` };
  return { ok: true, args: { file, outputs: values.output, answer: values.answer, router: values.router, routerUrl: url, rpc: values.rpc, anchorSender: sender } };
}

const parse = (argv: string[]) =>
  parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: "string", multiple: true, default: [] },
      answer: { type: "string" },
      router: { type: "string" },
      "router-url": { type: "string" },
      rpc: { type: "string" },
      "anchor-sender": { type: "string" },
    },
  });

/** The anchor is only as good as the channel it came over: https, or plain http to this machine. */
function routerUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "not a URL";
  }
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  if (url.protocol === "https:" || (url.protocol === "http:" && loopback)) return null;
  return "must be https (plain http only to localhost): the address fetched over it is the one receipts are trusted against";
}

export type Io = { read: (path: string) => string; fetch?: typeof fetch; out: (line: string) => void; err: (line: string) => void };

/** Runs the verifier: 0 verified, 1 a check failed, 2 not verified at all (usage, no pin, unreadable input). */
export async function runVerify(argv: string[], io: Io): Promise<number> {
  const parsed = parseVerifyArgs(argv);
  if (!parsed.ok) {
    io.err(parsed.message);
    return 2;
  }
  const { args } = parsed;
  let text: string;
  let receipt: unknown;
  try {
    text = io.read(args.file);
    receipt = JSON.parse(text);
  } catch (err) {
    io.err(`cannot read ${args.file} as JSON: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  const pin = await resolvePin(args, io.fetch);
  if (!pin.ok) {
    io.err(pin.message);
    return 2;
  }
  if (pin.warning) io.err(pin.warning);

  const counted = (((receipt as { miners?: unknown }).miners ?? []) as { slot?: unknown; counted?: unknown }[]).filter((m) => m.counted === true).map((m) => Number(m.slot));
  const outputs: Record<number, string> = {};
  for (const [i, arg] of args.outputs.entries()) {
    const named = /^(\d+)=(.+)$/.exec(arg);
    const slot = named ? Number(named[1]) : counted[i];
    if (slot === undefined) {
      io.err(`--output ${arg}: the receipt has no counted miner number ${i + 1}; name its slot (slot=file)`);
      return 2;
    }
    outputs[slot] = io.read(named?.[2] ?? arg);
  }

  // The text, not the parsed value: a key repeated anywhere fails `format`.
  const verdict = await verifyReceipt(text, { outputs, router: pin.address, ...(args.answer ? { answer: io.read(args.answer) } : {}) });
  // With --rpc, the anchor too: the receipt's inclusion under a root its router's chain account posted.
  const parsedReceipt = args.rpc ? ReceiptSchema.safeParse(receipt) : null;
  if (args.rpc && parsedReceipt?.success) {
    const sender = args.anchorSender ?? pin.anchorSender;
    if (args.anchorSender && pin.anchorSender && !isAddressEqual(args.anchorSender as `0x${string}`, pin.anchorSender as `0x${string}`)) {
      io.err(`--anchor-sender ${args.anchorSender} is not the account the router publishes (${pin.anchorSender})`);
      return 2;
    }
    const anchorChecks = await verifyAnchor(parsedReceipt.data, { rpcUrl: args.rpc, sender });
    verdict.checks.push(...anchorChecks);
    verdict.ok = verdict.ok && anchorChecks.every((c) => c.result !== "fail");
  }
  const mark = { pass: "PASS", fail: "FAIL", skip: "skip" } as const;
  for (const check of verdict.checks) io.out(`${mark[check.result]}  ${check.name.padEnd(20)} ${check.detail}`);
  io.out(verdict.ok ? "\nreceipt verified" : `\nreceipt NOT verified: ${verdict.checks.filter((c) => c.result === "fail").length} check(s) failed`);
  return verdict.ok ? 0 : 1;
}
