/**
 * Checks a receipt offline (domain/receipts/verify-receipt.ts, the same
 * code as a library): prints a verdict per check, exits 1 if any failed, 2
 * if it could not verify at all (no pinned router, unreadable input).
 *
 *   npm run verify -- receipt.json (--router 0x… | --router-url https://…) [--output [slot=]file ...] [--answer file] [--rpc URL [--anchor-sender 0x…]]
 *
 * `--router` pins the router address the receipt must be signed by;
 * `--router-url` fetches it from the router's /.well-known/cortensor-router.json
 * (one of them is required). `--output` gives an output's text (needed for a
 * private session's receipt, which carries hashes only): `slot=file`, or
 * plain files in the order of the receipt's counted miners. `--answer` is
 * the completion text received. `--rpc` checks the receipt's anchor on chain
 * over that JSON-RPC URL: its leaf under the root, and the root posted by the
 * router's chain account (published in the router's well-known document, or
 * given as `--anchor-sender`); a receipt not yet anchored fails it.
 */
import { readFileSync } from "node:fs";
import { runVerify } from "./verify-cli.ts";

process.exitCode = await runVerify(process.argv.slice(2), {
  read: (path) => readFileSync(path === "-" ? 0 : path, "utf8"),
  out: (line) => console.log(line),
  err: (line) => console.error(line),
});
