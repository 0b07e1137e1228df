/**
 * The node's log: one line per event on stdout (errors on stderr), with the
 * time. It is given messages only, never secrets: the key, the credential and
 * the assignment tokens stay out of every line.
 */
export type Log = { info(message: string): void; error(message: string): void };

export const consoleLog: Log = {
  info: (message) => process.stdout.write(`${new Date().toISOString()} ${message}\n`),
  error: (message) => process.stderr.write(`${new Date().toISOString()} ${message}\n`),
};
