/**
 * The node's secrets: its private key (a file the operator keeps at mode
 * 600), the credential the router must present, and an optional key for the
 * upstream server. None of them is ever printed: errors name the file, never
 * its content.
 */
import { randomBytes, createHash, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import type { Hex } from "viem";

/** A problem with the node's configuration the operator must fix; the CLI prints its message and exits non-zero. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Reads a secret file, refusing one that its group or others may read, write or run (mode & 0o077). */
export function readPrivateFile(path: string, what: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    throw new ConfigError(`cannot read the ${what} file ${path}`);
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(3, "0");
    throw new ConfigError(`the ${what} file ${path} is readable by group or others (mode ${octal}); run: chmod 600 ${path}`);
  }
  return readFileSync(path, "utf8").trim();
}

const PRIVATE_KEY = /^0x[0-9a-fA-F]{64}$/;

/** The miner's private key from its file: 0x and 64 hex digits, the file at mode 600 (or stricter). */
export function readKeyFile(path: string): Hex {
  const key = readPrivateFile(path, "key");
  // Checked here, so that no library error message ever quotes the key.
  if (!PRIVATE_KEY.test(key)) throw new ConfigError(`the key file ${path} does not hold a private key (0x followed by 64 hex digits)`);
  return key.toLowerCase() as Hex;
}

/** A fresh credential for this run: 32 random bytes, hex. */
export const newCredential = (): string => randomBytes(32).toString("hex");

/** A fixed credential from a file (for an operator registering the node through the admin API); at least 16 characters. */
export function readCredentialFile(path: string): string {
  const credential = readPrivateFile(path, "credential");
  if (credential.length < 16 || /\s/.test(credential)) throw new ConfigError(`the credential file ${path} must hold one credential of at least 16 characters, no spaces`);
  return credential;
}

/** Lowercase hex SHA-256 of the credential (UTF-8): what a join's signed text carries. */
export const credentialSha256 = (credential: string): string => createHash("sha256").update(credential, "utf8").digest("hex");

/**
 * Whether an Authorization header is `Bearer <credential>`, in time that
 * does not depend on where they differ: both sides are hashed first, so the
 * comparison is of equal lengths whatever was sent.
 */
export function bearerMatches(authorization: string | undefined | null, credential: string): boolean {
  const sent = createHash("sha256")
    .update(authorization ?? "", "utf8")
    .digest();
  const expected = createHash("sha256").update(`Bearer ${credential}`, "utf8").digest();
  return timingSafeEqual(sent, expected);
}
