/**
 * A long-lived child (wrangler dev, Miniflare, Portkey) started under
 * scripts/supervise.ts in its own process group. Its stdin is the
 * supervisor's lifeline: closed when we stop it or when this process ends in
 * any way (even `kill -9`), and the supervisor then ends the whole group, so
 * no orphan keeps a port. Detached, so that a signal to our process group
 * (Ctrl-C) cannot kill it before it has stopped its children.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const SUPERVISE = fileURLToPath(new URL("./supervise.ts", import.meta.url));

export type SupervisedChild = {
  /** The supervisor's pid: the command and its children run below it. */
  pid: number;
  /** The last 4000 characters the command printed. */
  output(): string;
  /** Whether the command has ended. */
  ended(): boolean;
  exited: Promise<number | null>;
  stop(): Promise<void>;
};

export function startSupervised(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {}): SupervisedChild {
  const child = spawn(process.execPath, [SUPERVISE, command, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
    env: { ...process.env, ...options.env },
  });
  let output = "";
  const onData = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
    if (options.log) chunk.toString().split("\n").filter(Boolean).forEach(options.log);
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  return {
    pid: child.pid ?? -1,
    output: () => output,
    ended,
    exited,
    async stop() {
      // The supervisor gives the group 5 s to stop on SIGINT, then kills it.
      child.stdin.end();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
      clearTimeout(timer);
      if (!ended()) child.kill("SIGKILL");
    },
  };
}

/**
 * Polls `probe` until it succeeds, the child ends, or `seconds` pass; the
 * child is stopped on failure. Bounded in time, as everything the scripts run.
 */
export async function waitUntilUp(child: SupervisedChild, probe: () => Promise<boolean>, what: string, seconds: number): Promise<void> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    if (child.ended()) throw new Error(`${what} exited before it answered:\n${child.output()}`);
    try {
      if (await probe()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > end) {
      await child.stop();
      throw new Error(`${what} did not answer within ${seconds} s:\n${child.output()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
