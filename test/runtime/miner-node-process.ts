/**
 * The miner node as an operator runs it: `node miner-node/cli.ts` as a child
 * process, its stdout and stderr kept (the tests look for the key in them),
 * its key (and credential) in files at mode 600 in a folder of its own.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";

export type NodeProcess = {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** Its exit code (or the signal's name) once it ended. */
  exited: Promise<number | string>;
  /** Its listening URL, once it printed it. */
  url(): Promise<string>;
};

/** A miner's secrets in files: its key, and a credential (for admin registration), each at `mode`. */
export function minerFiles(mode = 0o600, key: Hex = generatePrivateKey()) {
  const dir = mkdtempSync(join(tmpdir(), "miner-node-"));
  const keyFile = join(dir, "miner.key");
  writeFileSync(keyFile, `${key}\n`);
  chmodSync(keyFile, mode);
  const credential = `cred-${Buffer.from(generatePrivateKey().slice(2), "hex").toString("base64url")}`;
  const credentialFile = join(dir, "credential");
  writeFileSync(credentialFile, credential);
  chmodSync(credentialFile, 0o600);
  return { dir, key, address: privateKeyToAccount(key).address, keyFile, credential, credentialFile };
}

export function startNode(args: string[]): NodeProcess {
  const child = spawn(process.execPath, ["miner-node/cli.ts", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  const url = async () => {
    const end = Date.now() + 30_000;
    for (;;) {
      const found = / listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (found) return found;
      if (child.exitCode !== null || Date.now() > end) throw new Error(`the miner node did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, output: () => output, exited, url };
}
